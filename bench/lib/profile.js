'use strict';
/**
 * The top of a V8 CPU profile (.cpuprofile): self time by function and by
 * where the code lives (a package, the service's own dist/, Node itself),
 * as a share of the time the process was not idle.
 *
 *   node bench/lib/profile.js bench/profiles/x.cpuprofile [top]
 */
const fs = require('fs');
const path = require('path');

function whereOf(url) {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const dist = file.indexOf('/dist/');
  if (dist >= 0) return 'service (dist)';
  return path.basename(file);
}

function summarize(file, top = 12) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map(n => [n.id, n]));
  const self = new Map();
  // Time per sample: the delta to the next sample.
  const {samples, timeDeltas} = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  const fns = new Map();
  const places = new Map();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const {callFrame} = byId.get(id);
    const name = callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const where = name.startsWith('(') ? name : whereOf(callFrame.url);
    const key = name.startsWith('(')
      ? name
      : `${name} ${path.basename(callFrame.url || '')}:${callFrame.lineNumber + 1}`;
    fns.set(key, {us: (fns.get(key)?.us ?? 0) + us, where});
    places.set(where, (places.get(where) ?? 0) + us);
  }
  const pct = us => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  const lines = [
    `     busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms; self time by function:`,
  ];
  for (const [key, {us, where}] of [...fns]
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, top)) {
    lines.push(`     ${pct(us)}  ${key}  [${where}]`);
  }
  lines.push('     by place:');
  for (const [where, us] of [...places]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)) {
    lines.push(`     ${pct(us)}  ${where}`);
  }
  return lines.join('\n');
}

module.exports = {summarize};

if (require.main === module) {
  console.log(summarize(process.argv[2], Number(process.argv[3] ?? 20)));
}
