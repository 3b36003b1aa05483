'use strict';
/**
 * `npm run bench`: every benchmark in turn, each in a process of its own,
 * then one table of every figure against its target.
 *
 *   node bench/run.js [ingest reads workflow kafka-out kafka-in webhook]
 */
const {spawnSync} = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {fmt} = require('./lib/report');
const {machine} = require('./lib/env');

const ALL = ['ingest', 'reads', 'workflow', 'kafka-out', 'kafka-in', 'webhook'];
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
const results = path.join(os.tmpdir(), `task-bench-${process.pid}.jsonl`);
fs.writeFileSync(results, '');

const failed = [];
const started = Date.now();
for (const name of chosen) {
  if (!ALL.includes(name))
    throw new Error(`No benchmark ${name}: ${ALL.join(', ')}`);
  const run = spawnSync(
    process.execPath,
    [path.join(__dirname, `${name}.bench.js`)],
    {stdio: 'inherit', env: {...process.env, BENCH_RESULTS: results}},
  );
  if (run.status !== 0) failed.push(name);
}

const entries = fs
  .readFileSync(results, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map(line => JSON.parse(line))
  .filter(e => e.pass !== undefined);
fs.unlinkSync(results);
console.log(
  `\n== Summary (${machine()}; ${((Date.now() - started) / 60000).toFixed(1)} min)`,
);
for (const e of entries) {
  const figure =
    e.ceiling !== undefined
      ? `ours ${fmt(e.ours)} ${e.unit}, ${e.ceilingName} ${fmt(e.ceiling)}, ratio ${fmt(e.ratio, 2)}`
      : `${fmt(e.ours, e.unit === 'ms' ? 1 : 0)} ${e.unit}`;
  console.log(
    `${e.pass ? 'PASS ' : 'BELOW'} [${e.bench}] ${e.what}: ${figure} (target ${e.target})`,
  );
}
for (const name of failed)
  console.log(`FAILED [${name}]: the benchmark did not finish (see above)`);
process.exitCode = failed.length ? 1 : 0;
