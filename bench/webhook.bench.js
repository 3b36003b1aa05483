'use strict';
/**
 * Webhook delivery: N queued deliveries (one subscriber, as `publish`
 * queues them) → the delivery worker claims, signs, POSTs to a local
 * receiver and records each attempt. The rate is N over the time from the
 * commit of the INSERT that queues them until the receiver got all N
 * (after which every row must say delivered). Ceiling: a raw
 * keep-alive HTTP client posting the same signed bodies to the same
 * receiver at the worker's concurrency. Targets: ≥ 1,000 deliveries/s and
 * ≥ 0.5 × the raw client.
 *
 *   npm run bench:webhook    (BENCH_WEBHOOKS, default 5000)
 */
const {env} = require('./lib/env');
const {scratchDatabase} = require('./lib/db');
const {interleave} = require('./lib/load');
const {profiled, startChild} = require('./lib/proc');
const {until} = require('./lib/kafka');
const {
  header,
  median,
  ratioLine,
  targetLine,
  infoLine,
} = require('./lib/report');
const {bearer, startService} = require('./lib/service');
const {DEFAULT_DELIVERY_CONFIG} = require('../dist/connectors/http/types');

const BENCH = 'webhook';
const DELIVERIES = Number(process.env.BENCH_WEBHOOKS ?? 5000);

async function main() {
  header(BENCH, 'webhook delivery against a raw keep-alive client');
  const concurrency = DEFAULT_DELIVERY_CONFIG.concurrency;
  const db = await scratchDatabase(BENCH);
  const children = [];
  try {
    const receiver = await startChild('receiver', {}, {name: 'receiver'});
    children.push(receiver);
    const service = await startService(db, {
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    });
    children.push(service);
    const rawPoster = await startChild(
      'raw-poster',
      {CONCURRENCY: String(concurrency)},
      {name: 'raw client'},
    );
    children.push(rawPoster);
    const call = async (path, body, headers = {}) => {
      const res = await fetch(`${service.url}${path}`, {
        method: 'POST',
        headers: {
          authorization: bearer(),
          'content-type': 'application/json',
          ...headers,
        },
        body: JSON.stringify(body),
      });
      if (!res.ok)
        throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const client = await call('/client-apps', {clientName: 'bench'});
    await call(
      '/webhooks/subscribe',
      {url: receiver.url, key: 'task-created'},
      {'x-api-key': client.apiKey, 'x-api-secret': client.apiSecret},
    );
    const bodyOf = i =>
      JSON.stringify({
        key: 'task-created',
        payload: {
          createdTasks: [
            {id: `task-${i % 100}`, key: 'review', name: `Task ${i}`},
          ],
        },
        timestamp: 1767225600000 + i,
        source: 'task-service',
      });
    const received = async () => (await receiver.call('count')).received;

    const ours = async (n = DELIVERIES) => {
      const before = await received();
      // As `publish` queues them: each with its ordering key (its task) for
      // its receiver, so a task's deliveries go one after the other.
      await db.query(
        `WITH queued AS (
           INSERT INTO main.webhook_deliveries
                  (subscription_id, client_app_id, url, event_key, event)
           SELECT s.id, s.client_app_id, s.url, s.key,
                  json_build_object(
                    'key', 'task-created',
                    'payload', json_build_object('createdTasks', json_build_array(
                      json_build_object('id', 'task-' || (g % 100), 'key', 'review',
                                        'name', 'Task ' || g))),
                    'timestamp', 1767225600000 + g,
                    'source', 'task-service')
             FROM main.webhook_subscriptions s, generate_series(1, $1::int) g
           RETURNING id, seq, client_app_id, url, event
         )
         INSERT INTO main.webhook_delivery_keys
                (delivery_id, receiver, ordering_key, seq)
         SELECT id,
                encode(sha256(convert_to(client_app_id::text || ' ' || url, 'UTF8')), 'hex'),
                event->'payload'->'createdTasks'->0->>'id', seq
           FROM queued`,
        [n],
      );
      // The clock starts once the deliveries are queued (the INSERT above
      // committed): what is timed is the worker's claiming, posting and
      // recording, not the bench's own setup.
      const started = Date.now();
      const done = await until(
        async () => (await received()) - before >= n,
        `${n} webhooks at the receiver`,
      );
      await until(
        async () =>
          (
            await db.query(
              "SELECT count(*)::int AS n FROM main.webhook_deliveries WHERE status <> 'delivered'",
            )
          )[0].n === 0,
        'every delivery recorded as delivered',
      );
      return (n * 1000) / (done - started);
    };
    const bodies = Array.from({length: 100}, (_, i) => bodyOf(i));
    let rawRound = 0;
    const raw = async (n = DELIVERIES) => {
      const {ms} = await rawPoster.call('post', {
        url: receiver.url,
        bodies,
        secret: client.apiSecret,
        n,
        prefix: `raw-${rawRound++}`,
      });
      return (n * 1000) / ms;
    };
    await ours(Math.min(DELIVERIES, 500));
    await raw(Math.min(DELIVERIES, 500));
    const rounds = await interleave(
      env.rounds,
      () => ours(),
      () => raw(),
    );
    ratioLine({
      bench: BENCH,
      what: `webhook deliveries, ${DELIVERIES} at ${concurrency} in flight`,
      unit: 'deliveries/s',
      ours: rounds.a,
      ceiling: rounds.b,
      ceilingName: 'raw keep-alive client',
      target: 0.5,
    });
    targetLine({
      bench: BENCH,
      what: 'webhook delivery rate',
      unit: 'deliveries/s',
      value: median(rounds.a),
      atLeast: 1000,
    });
    await profiled(service, BENCH, 'deliver', () => ours());
    const {received: total, unique, connections} = await receiver.call('count');
    infoLine(
      BENCH,
      'receiver',
      `${total} requests, ${unique} distinct delivery ids, ${connections} connections`,
    );
    if (total !== unique) throw new Error('a delivery id arrived twice');
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
