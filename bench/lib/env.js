'use strict';
/**
 * Where the benchmarks find their services and how long they run, from the
 * environment. Every benchmark measures its ceiling in the same run, in
 * interleaved rounds, so the ratios hold on a machine that others load.
 */
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');

const num = (name, fallback) => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new Error(`${name} must be a number, not "${value}"`);
  }
  return n;
};

const env = {
  root: ROOT,
  pg: {
    host: process.env.BENCH_DB_HOST ?? process.env.TEST_DB_HOST ?? '127.0.0.1',
    port: Number(process.env.BENCH_DB_PORT ?? process.env.TEST_DB_PORT ?? 5432),
    user: process.env.BENCH_DB_USER ?? process.env.TEST_DB_USER ?? 'postgres',
    password:
      process.env.BENCH_DB_PASSWORD ??
      process.env.TEST_DB_PASSWORD ??
      undefined,
  },
  camundaUrl: (
    process.env.CAMUNDA_URL ?? 'http://127.0.0.1:8080/engine-rest'
  ).replace(/\/+$/, ''),
  kafkaBrokers: (
    process.env.KAFKA_BROKERS ??
    process.env.KAFKA_SERVER ??
    '127.0.0.1:9092'
  ).split(','),
  /** Interleaved rounds per comparison (ours, ceiling, ceiling, ours, ...). */
  rounds: num('BENCH_ROUNDS', 3),
  /** Seconds per HTTP load round. */
  seconds: num('BENCH_SECONDS', 5),
  /** Concurrent clients of the throughput comparisons. */
  concurrency: num('BENCH_CONCURRENCY', 32),
  /** Write a CPU profile of the service for each benchmark (bench/profiles/). */
  profile: process.env.BENCH_PROFILE === '1',
  profileDir: path.join(ROOT, 'bench', 'profiles'),
  /** JSON lines of every figure printed (set by `bench/run.js`). */
  resultsFile: process.env.BENCH_RESULTS,
  jwt: {secret: 'bench-secret-of-32-characters-or-so', issuer: 'task-bench'},
};

/** One line that says what the figures were taken on. */
function machine() {
  const cpus = os.cpus();
  const gib = (os.totalmem() / 2 ** 30).toFixed(0);
  const load = os
    .loadavg()
    .map(l => l.toFixed(2))
    .join(' ');
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, ${gib} GiB, node ${process.version}, load ${load}`;
}

module.exports = {env, machine, ROOT};
