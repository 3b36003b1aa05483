'use strict';
/**
 * How every benchmark prints a figure: ours, the ceiling measured in the
 * same run, the ratio, the target and PASS/BELOW; absolute targets (latency,
 * rates) the same way without a ceiling. Each line is also appended as JSON
 * to BENCH_RESULTS, from which `bench/run.js` prints the summary.
 */
const fs = require('fs');
const {env, machine} = require('./env');

const fmt = (n, digits = 0) =>
  n === undefined || n === null || Number.isNaN(n)
    ? '-'
    : Number(n).toLocaleString('en-US', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      });

const median = values => {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function record(entry) {
  if (!env.resultsFile) return;
  fs.appendFileSync(env.resultsFile, JSON.stringify(entry) + '\n');
}

function header(bench, what) {
  console.log(`\n== ${bench}: ${what}`);
  console.log(`   ${machine()}`);
}

/**
 * A rate against its ceiling. `ours` and `ceiling` are the medians of the
 * rounds; the ratio is the median of the per-round ratios (a round pairs
 * ours with the ceiling measured next to it).
 */
function ratioLine({bench, what, unit, ours, ceiling, ceilingName, target}) {
  const pairs = ours.map((o, i) => o / ceiling[i]);
  const ratio = median(pairs);
  const pass = ratio >= target;
  const entry = {
    bench,
    what,
    unit,
    ours: median(ours),
    ceiling: median(ceiling),
    ceilingName,
    ratio,
    target: `≥ ${target} × ${ceilingName}`,
    pass,
    rounds: {ours, ceiling},
  };
  console.log(
    `${pass ? 'PASS ' : 'BELOW'} ${what}: ours ${fmt(entry.ours)} ${unit}, ${ceilingName} ${fmt(entry.ceiling)} ${unit}, ratio ${fmt(ratio, 2)} (target ≥ ${target})` +
      `\n      rounds: ours ${ours.map(v => fmt(v)).join(' / ')}; ${ceilingName} ${ceiling.map(v => fmt(v)).join(' / ')}`,
  );
  record(entry);
  return entry;
}

/** A figure against an absolute target: `atMost` (latency) or `atLeast` (rate). */
function targetLine({bench, what, unit, value, atMost, atLeast, note}) {
  const pass =
    (atMost === undefined || value <= atMost) &&
    (atLeast === undefined || value >= atLeast);
  const target =
    atMost !== undefined
      ? `≤ ${fmt(atMost)} ${unit}`
      : `≥ ${fmt(atLeast)} ${unit}`;
  const digits = unit === 'ms' && value < 100 ? 1 : 0;
  console.log(
    `${pass ? 'PASS ' : 'BELOW'} ${what}: ${fmt(value, digits)} ${unit} (target ${target})${note ? `; ${note}` : ''}`,
  );
  const entry = {bench, what, unit, ours: value, target, pass, note};
  record(entry);
  return entry;
}

/** A figure printed for reference only (no target). */
function infoLine(bench, what, text) {
  console.log(`      ${what}: ${text}`);
  record({bench, what, info: text});
}

/**
 * What LoopBack's REST layer alone reaches on the same path in the same
 * rounds (`alone`), against the ceiling and against ours: the part of the
 * ceiling any app on LoopBack can reach here, and how much of that ours keeps.
 */
function frameworkLine({bench, unit, ours, alone, ceiling, ceilingName}) {
  const ratio = (xs, ys) => median(xs.map((x, i) => x / ys[i]));
  infoLine(
    bench,
    'LoopBack alone (no auth, no database per request)',
    `${fmt(median(alone))} ${unit}, ${fmt(ratio(alone, ceiling), 2)} × ${ceilingName}; ours ${fmt(ratio(ours, alone), 2)} × LoopBack alone`,
  );
}

module.exports = {
  fmt,
  median,
  header,
  ratioLine,
  targetLine,
  infoLine,
  frameworkLine,
  record,
};
