'use strict';
/**
 * Ingest: `POST /events/trigger` of an event no workflow is mapped to (it is
 * stored, nothing is started), 32 clients, against the floor (node:http, the
 * same JWT verification, one INSERT through a pg pool). Target: ≥ 0.5 × the
 * floor. Also prints the CPU each spends per request.
 *
 *   npm run bench:ingest
 */
const {env} = require('./lib/env');
const {scratchDatabase} = require('./lib/db');
const {load, interleave} = require('./lib/load');
const {profiled} = require('./lib/proc');
const {
  fmt,
  frameworkLine,
  header,
  infoLine,
  median,
  ratioLine,
} = require('./lib/report');
const {
  bearer,
  startFloor,
  startLoopbackAlone,
  startService,
} = require('./lib/service');

const BENCH = 'ingest';

async function main() {
  header(BENCH, 'POST /events/trigger (stored, unmapped) against a floor');
  const db = await scratchDatabase(BENCH);
  const children = [];
  try {
    const service = await startService(db);
    children.push(service);
    const floor = await startFloor(db);
    children.push(floor);
    const alone = await startLoopbackAlone(db);
    children.push(alone);
    const request = {
      method: 'POST',
      headers: {authorization: bearer(), 'content-type': 'application/json'},
      body: JSON.stringify({
        key: 'bench-unmapped',
        source: 'bench',
        description: 'An order arrived',
        payload: {orderId: 'order-1', amount: 42, lines: [{sku: 'a', qty: 2}]},
      }),
    };
    const run = async (child, seconds = env.seconds) => {
      const cpuBefore = await child.cpuMs();
      const result = await load({
        ...request,
        url: `${child.url}/events/trigger`,
        seconds,
      });
      result.cpuMs = ((await child.cpuMs()) - cpuBefore) / result.ok;
      return result;
    };
    // Warm-up: JIT, pools, caches.
    await run(service, 2);
    await run(floor, 2);
    await run(alone, 2);
    const rounds = await interleave(
      env.rounds,
      () => run(service),
      () => run(floor),
      () => run(alone),
    );
    ratioLine({
      bench: BENCH,
      what: `POST /events/trigger, ${env.concurrency} concurrent`,
      unit: 'req/s',
      ours: rounds.a.map(r => r.rate),
      ceiling: rounds.b.map(r => r.rate),
      ceilingName: 'floor',
      target: 0.5,
    });
    frameworkLine({
      bench: BENCH,
      unit: 'req/s',
      ours: rounds.a.map(r => r.rate),
      alone: rounds.c.map(r => r.rate),
      ceiling: rounds.b.map(r => r.rate),
      ceilingName: 'floor',
    });
    const describe = rs =>
      `p50 ${fmt(median(rs.map(r => r.p50)), 1)} ms, p99 ${fmt(median(rs.map(r => r.p99)), 1)} ms, CPU ${fmt(median(rs.map(r => r.cpuMs)), 2)} ms/request`;
    infoLine(BENCH, 'service', describe(rounds.a));
    infoLine(BENCH, 'floor', describe(rounds.b));
    infoLine(BENCH, 'LoopBack alone', describe(rounds.c));
    const stored = rounds.a.concat(rounds.b).reduce((n, r) => n + r.ok, 0);
    const [{count}] = await db.query(
      'SELECT count(*)::int AS count FROM main.events',
    );
    // Warm-up rounds stored events too: at least every measured one is there.
    if (count < stored) {
      throw new Error(`${stored} events answered 204 but ${count} are stored`);
    }
    await profiled(service, BENCH, 'trigger', () => run(service));
  } finally {
    for (const child of children.reverse()) await child.stop();
    await db.drop();
  }
}

main().then(
  () => process.exit(0),
  err => {
    console.error(err);
    process.exit(1);
  },
);
