'use strict';
/**
 * Kafka out: events in the outbox → the relay → the Kafka connector → the
 * broker. N events are written to the outbox in one statement (as commands
 * write them: `task-created` of 100 tasks in turn); once that statement has
 * committed, the clock starts and the relay is woken (`relay-soon`, as a
 * command's commit wakes it); the rate is N over the time from there until
 * the topic holds all N (a task's events one after the other, as the relay
 * keeps them in order). Ceiling: raw kafkajs `sendBatch` of the same N
 * messages (same value, key and compression) on the same broker, the
 * clock running from the first call to the last acknowledgement.
 * Targets: ≥ 5,000 events/s and ≥ 0.5 × the ceiling.
 *
 *   npm run bench:kafka-out    (BENCH_KAFKA_EVENTS, default 10000)
 */
const crypto = require('crypto');
const {CompressionTypes} = require('kafkajs');
const {env} = require('./lib/env');
const {scratchDatabase} = require('./lib/db');
const {interleave} = require('./lib/load');
const {profiled} = require('./lib/proc');
const k = require('./lib/kafka');
const {header, ratioLine, targetLine, median} = require('./lib/report');
const {startService} = require('./lib/service');

const BENCH = 'kafka-out';
const EVENTS = Number(process.env.BENCH_KAFKA_EVENTS ?? 10000);
const TASKS = 100;
/** Messages per `sendBatch` call of the raw producer. */
const RAW_BATCH = 500;

const eventOf = (i, timestamp) => ({
  key: 'task-created',
  payload: {
    createdTasks: [{id: `task-${i % TASKS}`, key: 'review', name: `Task ${i}`}],
  },
  timestamp,
  source: 'task-service',
});

async function main() {
  header(BENCH, 'outbox → relay → broker against raw kafkajs sendBatch');
  const run = crypto.randomBytes(3).toString('hex');
  const ourTopic = `bench-out-${run}`;
  const rawTopic = `bench-out-raw-${run}`;
  await k.createTopic(ourTopic);
  await k.createTopic(rawTopic);
  const db = await scratchDatabase(BENCH);
  let service;
  const producer = k.kafka.producer();
  try {
    service = await startService(db, {
      TASK_OUTGOING: 'kafka',
      KAFKA_OUTPUT_TOPIC: ourTopic,
    });
    await producer.connect();

    const ours = async (n = EVENTS) => {
      const before = await k.endOffset(ourTopic);
      const timestamp = Date.now();
      // As the outbox's add writes them: each event with its ordering key
      // (its task), so a task's events go one after the other.
      await db.query(
        `WITH added AS (
           INSERT INTO main.outbox_events (key, event, key_count)
           SELECT 'task-created',
                  json_build_object(
                    'key', 'task-created',
                    'payload', json_build_object('createdTasks', json_build_array(
                      json_build_object('id', 'task-' || (g % ${TASKS}),
                                        'key', 'review', 'name', 'Task ' || g))),
                    'timestamp', $2::bigint,
                    'source', 'task-service'),
                  1
             FROM generate_series(1, $1::int) g
           RETURNING id, seq, event
         )
         INSERT INTO main.outbox_event_keys (event_id, ordering_key, seq)
         SELECT id, event->'payload'->'createdTasks'->0->>'id', seq FROM added`,
        [n, timestamp],
      );
      // The events are committed: from here on it is the relay's work.
      const started = Date.now();
      await service.call('relay-soon');
      const done = await k.until(
        async () => (await k.endOffset(ourTopic)) - before >= n,
        `${n} events on ${ourTopic}`,
      );
      return (n * 1000) / (done - started);
    };
    const raw = async (n = EVENTS) => {
      const timestamp = Date.now();
      // Keyed by task, as the connector keys them.
      const messages = Array.from({length: n}, (_, i) => ({
        key: `task-${i % TASKS}`,
        value: JSON.stringify(eventOf(i, timestamp)),
      }));
      const started = Date.now();
      for (let i = 0; i < n; i += RAW_BATCH) {
        await producer.sendBatch({
          compression: CompressionTypes.GZIP,
          topicMessages: [
            {topic: rawTopic, messages: messages.slice(i, i + RAW_BATCH)},
          ],
        });
      }
      return (n * 1000) / (Date.now() - started);
    };
    await ours(Math.min(EVENTS, 1000));
    await raw(Math.min(EVENTS, 1000));
    const rounds = await interleave(
      env.rounds,
      () => ours(),
      () => raw(),
    );
    ratioLine({
      bench: BENCH,
      what: `outbox → Kafka, ${EVENTS} events`,
      unit: 'events/s',
      ours: rounds.a,
      ceiling: rounds.b,
      ceilingName: `raw sendBatch (${RAW_BATCH} a call)`,
      target: 0.5,
    });
    targetLine({
      bench: BENCH,
      what: 'outbox → Kafka rate',
      unit: 'events/s',
      value: median(rounds.a),
      atLeast: 5000,
    });
    await profiled(service, BENCH, 'relay', () => ours());
    // The broker has a round's events before the relay's transaction
    // commits them as published.
    await k.until(
      async () =>
        (
          await db.query(
            'SELECT count(*)::int AS left FROM main.outbox_events WHERE published_on IS NULL',
          )
        )[0].left === 0,
      'every outbox event recorded as published',
      30000,
    );
  } finally {
    await producer.disconnect().catch(() => {});
    await service?.stop();
    await db.drop();
    await k.deleteTopics(ourTopic, rawTopic);
    await k.close();
  }
}

main().then(
  () => process.exit(0),
  err => {
    console.error(err);
    process.exit(1);
  },
);
