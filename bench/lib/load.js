'use strict';
/**
 * HTTP load with autocannon (keep-alive connections, each with one request
 * in flight), and interleaved rounds of two targets.
 */
const autocannon = require('autocannon');
const {env} = require('./env');

/**
 * Load on `url` for `seconds` with `connections` clients. `paths` (if
 * given) are cycled through, one per request. Counts only 2xx as done.
 */
async function load({
  url,
  connections = env.concurrency,
  seconds = env.seconds,
  method = 'GET',
  headers = {},
  body,
  paths,
  expect = [200, 204],
}) {
  let i = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    method,
    headers,
    body,
    timeout: 30,
    requests: paths
      ? [{setupRequest: req => ({...req, path: paths[i++ % paths.length]})}]
      : undefined,
  });
  const ok = expect.reduce(
    (sum, code) => sum + (result.statusCodeStats[code]?.count ?? 0),
    0,
  );
  const bad = result.latency.totalCount - ok + result.errors;
  if (bad > 0) {
    throw new Error(
      `${method} ${url}: ${bad} of ${result.latency.totalCount} requests failed: ${JSON.stringify(result.statusCodeStats)}, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return {
    rate: ok / result.duration,
    ok,
    p50: result.latency.p50,
    p99: result.latency.p99,
    seconds: result.duration,
  };
}

/**
 * `rounds` rounds of `a` and `b` (and `c`, when given), the order turned
 * round each time (a b c, c b a, a b c, ...), so a drift of the machine's
 * load hits each alike.
 */
async function interleave(rounds, a, b, c) {
  const targets = {a, b, c};
  const names = c ? ['a', 'b', 'c'] : ['a', 'b'];
  const out = {a: [], b: [], c: []};
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...names].reverse() : names;
    for (const which of order) out[which].push(await targets[which](r));
  }
  return out;
}

module.exports = {load, interleave};
