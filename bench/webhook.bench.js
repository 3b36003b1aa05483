'use strict';
/**
 * Webhook delivery throughput, end to end: publish N events (one subscriber
 * each) through the HTTP connector, and time until a local receiver has got
 * all N. Real PostgreSQL (a scratch database, dropped at the end), a real
 * node:http receiver answering 204 at once.
 *
 *   npm run build && node bench/webhook.bench.js [N] [concurrency,...] [tasks]
 *
 * With `tasks` > 0 the events concern that many tasks (payload.taskId), so
 * each task's deliveries go one at a time, in order; 0 (the default): events
 * of no task, ordered with nothing.
 *
 * Database from TEST_DB_HOST/PORT/USER/PASSWORD (default 127.0.0.1:5432 postgres).
 */
const {randomBytes} = require('crypto');
const {TestDatabase} = require('../dist/__tests__/fixtures/database');
const {givenTestApp} = require('../dist/__tests__/fixtures/app');
const {
  WebhookReceiver,
} = require('../dist/__tests__/fixtures/webhook-receiver');
const {
  TaskHttpComponent,
  TaskHttpBindings,
} = require('../dist/connectors/http');
const {TaskServiceBindings} = require('../dist/keys');

const N = Number(process.argv[2] || 2000);
const CONCURRENCIES = (process.argv[3] || '1,8,32').split(',').map(Number);
const TASKS = Number(process.argv[4] || 0);
const PUBLISH_PARALLELISM = 16;

async function run(db, concurrency) {
  await db.query(
    'TRUNCATE main.webhook_delivery_attempts, main.webhook_deliveries, main.webhook_subscriptions, main.client_apps CASCADE',
  );
  const receiver = await new WebhookReceiver().start();
  let allIn;
  const done = new Promise(r => (allIn = r));
  receiver.behaviour = () => {
    if (receiver.received.length >= N) allIn();
    return 204;
  };
  const t = await givenTestApp({
    db,
    after: app => {
      app.component(TaskHttpComponent);
      app.bind(TaskHttpBindings.CONFIG).to({
        // The receiver is local; secrets are encrypted with a throwaway key.
        allowPrivateUrls: true,
        secretKeys: [{id: 'bench', key: randomBytes(32).toString('base64')}],
        delivery: {concurrency, pollIntervalMs: 50, timeoutMs: 10000},
      });
    },
  });
  try {
    const [clientApp] = await db.query(
      "INSERT INTO main.client_apps (name, api_key, api_secret) VALUES ('bench', 'bench-key', repeat('ab', 32)) RETURNING id",
    );
    await db.query(
      "INSERT INTO main.webhook_subscriptions (key, url, client_app_id) VALUES ('bench-event', $1, $2)",
      [receiver.url, clientApp.id],
    );
    const connector = await t.app.get(TaskServiceBindings.OUTGOING_CONNECTOR);
    const start = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({length: PUBLISH_PARALLELISM}, async () => {
        while (next < N) {
          const i = next++;
          await connector.publish({
            key: 'bench-event',
            payload: {
              i,
              ...(TASKS ? {taskId: `task-${i % TASKS}`} : {}),
              text: 'x'.repeat(200),
            },
            timestamp: Date.now(),
            source: 'task-service',
          });
        }
      }),
    );
    const published = process.hrtime.bigint();
    await done;
    const end = process.hrtime.bigint();
    // Wait for the last outcomes to be recorded, then check exactly-once.
    await new Promise(r => setTimeout(r, 300));
    const [{delivered}] = await db.query(
      "SELECT count(*)::int AS delivered FROM main.webhook_deliveries WHERE status = 'delivered'",
    );
    const ids = new Set(receiver.received.map(h => h.deliveryId));
    const ms = x => Number(x) / 1e6;
    return {
      concurrency,
      tasks: TASKS || 'none',
      deliveries: N,
      'publish ms': Math.round(ms(published - start)),
      'publish/s': Math.round(N / (ms(published - start) / 1000)),
      'end-to-end ms': Math.round(ms(end - start)),
      'deliveries/s': Math.round(N / (ms(end - start) / 1000)),
      'received (unique)': `${receiver.received.length} (${ids.size})`,
      'rows delivered': delivered,
    };
  } finally {
    await t.stop();
    await receiver.stop();
  }
}

async function main() {
  const db = await TestDatabase.create();
  const rows = [];
  try {
    for (const c of CONCURRENCIES) {
      rows.push(await run(db, c));
      console.error(`concurrency ${c}: done`);
    }
  } finally {
    console.log(
      `\nWebhook delivery, ${N} events to a local receiver (node ${process.version}):`,
    );
    console.table(rows);
    // Let the app pools finish closing before DROP ... WITH (FORCE) ends them.
    await new Promise(r => setTimeout(r, 500));
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
