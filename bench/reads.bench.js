'use strict';
/**
 * Reads at 1,000,000 rows per table (seeded in bulk; see lib/db.js):
 * `GET /tasks` by key and status (limit 20), `GET /events` by key and time
 * range (about 50 rows), `GET /tasks/{id}/user-tasks` (5 rows). For each:
 * single-client p99 (target ≤ 20 ms), and throughput at 32 concurrent
 * against the floor running the same SELECT (target ≥ 0.5 × the floor).
 *
 *   npm run bench:reads
 */
const {env} = require('./lib/env');
const {READ_SHAPE, readsDatabase} = require('./lib/db');
const {load, interleave} = require('./lib/load');
const {profiled} = require('./lib/proc');
const {
  fmt,
  frameworkLine,
  header,
  infoLine,
  median,
  ratioLine,
  targetLine,
} = require('./lib/report');
const {
  bearer,
  startFloor,
  startLoopbackAlone,
  startService,
} = require('./lib/service');

const BENCH = 'reads';
const SAMPLES = 500;

const pick = (n, i) => (i * 7919) % n;
const filterPath = (base, filter) =>
  `${base}?filter=${encodeURIComponent(JSON.stringify(filter))}`;

/** Request paths of each read, spread over the keys and tasks. */
async function readPaths(db) {
  const {keys, statuses, eventT0, eventSpacingMs, rows} = READ_SHAPE;
  const perKey = rows / keys;
  const tasks = [];
  const events = [];
  for (let i = 0; i < SAMPLES; i++) {
    tasks.push(
      filterPath('/tasks', {
        where: {key: `key-${pick(keys, i)}`, status: statuses[i % 3]},
        limit: 20,
      }),
    );
    // About 50 events of the key: a window of 50 spacings, somewhere in its span.
    const key = pick(keys, i + 11);
    const from =
      eventT0 +
      key * (eventSpacingMs / keys) +
      pick(perKey - 60, i) * eventSpacingMs;
    events.push(
      filterPath('/events', {
        where: {
          key: `event-${key}`,
          timestamp: {between: [from, from + 50 * eventSpacingMs - 1]},
        },
      }),
    );
  }
  const ids = await db.query(
    `SELECT task_id FROM main.user_tasks TABLESAMPLE SYSTEM (1)
      GROUP BY task_id LIMIT ${SAMPLES}`,
  );
  const userTasks = ids.map(r => `/tasks/${r.task_id}/user-tasks`);
  return [
    {
      name: 'GET /tasks by key and status, limit 20',
      label: 'tasks',
      paths: tasks,
    },
    {
      name: 'GET /events by key and time range (~50 rows)',
      label: 'events',
      paths: events,
    },
    {
      name: 'GET /tasks/{id}/user-tasks (5 rows)',
      label: 'user-tasks',
      paths: userTasks,
    },
  ];
}

async function main() {
  header(BENCH, `reads at ${fmt(READ_SHAPE.rows)} rows against a floor`);
  const db = await readsDatabase();
  const children = [];
  try {
    const service = await startService(db);
    children.push(service);
    const floor = await startFloor(db);
    children.push(floor);
    const alone = await startLoopbackAlone(db);
    children.push(alone);
    const headers = {authorization: bearer()};
    for (const read of await readPaths(db)) {
      const run = (child, connections, seconds = env.seconds) =>
        load({
          url: child.url,
          headers,
          paths: read.paths,
          connections,
          seconds,
        });
      // Warm-up, then one client alone: the latency a caller sees.
      await run(service, env.concurrency, 2);
      await run(floor, env.concurrency, 2);
      await run(alone, env.concurrency, 2);
      const single = await run(service, 1);
      targetLine({
        bench: BENCH,
        what: `${read.name}, one client, p99`,
        unit: 'ms',
        value: single.p99,
        atMost: 20,
        note: `p50 ${fmt(single.p50, 1)} ms`,
      });
      const rounds = await interleave(
        env.rounds,
        () => run(service, env.concurrency),
        () => run(floor, env.concurrency),
        () => run(alone, env.concurrency),
      );
      ratioLine({
        bench: BENCH,
        what: `${read.name}, ${env.concurrency} concurrent`,
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
      infoLine(
        BENCH,
        'latency at 32',
        `service p50 ${fmt(median(rounds.a.map(r => r.p50)), 1)} ms / p99 ${fmt(median(rounds.a.map(r => r.p99)), 1)} ms; floor p50 ${fmt(median(rounds.b.map(r => r.p50)), 1)} ms / p99 ${fmt(median(rounds.b.map(r => r.p99)), 1)} ms`,
      );
      await profiled(service, BENCH, read.label, () =>
        run(service, env.concurrency),
      );
    }
  } finally {
    for (const child of children.reverse()) await child.stop();
    await db.close();
  }
}

main().then(
  () => process.exit(0),
  err => {
    console.error(err);
    process.exit(1);
  },
);
