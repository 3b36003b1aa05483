'use strict';
/**
 * Kafka connector figures on the local broker (`npm run services:up`):
 * publish rate with the one long-lived producer of KafkaStreamService
 * against a new producer per event (the original's way), and the rate of
 * consuming, handling and committing messages one by one.
 *
 * Needs `npm run build` first. KAFKA_BROKERS (default 127.0.0.1:9092),
 * BENCH_PUBLISH (2000), BENCH_PER_EVENT (100), BENCH_CONSUME (5000).
 */
const {randomBytes} = require('crypto');
const {Kafka, CompressionTypes, logLevel} = require('kafkajs');
const {Client} = require('pg');
const {KafkaStreamService} = require('../dist/connectors/kafka');

const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
const PUBLISH = Number(process.env.BENCH_PUBLISH || 2000);
const PER_EVENT = Number(process.env.BENCH_PER_EVENT || 100);
const CONSUME = Number(process.env.BENCH_CONSUME || 5000);
const connection = {
  brokers,
  clientId: 'task-bench',
  logLevel: logLevel.NOTHING,
};
const kafka = new Kafka(connection);
const run = `${Date.now()}-${randomBytes(3).toString('hex')}`;

const anEvent = n => ({
  key: 'task-created',
  payload: {n, createdTasks: [{id: `t-${n}`, name: 'Review'}]},
  timestamp: Date.now(),
  source: 'task-service',
});

async function createTopics(...topics) {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `Kafka is not reachable on ${brokers.join(',')}: run \`npm run services:up\` (${err.message})`,
    );
  }
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map(topic => ({topic, numPartitions: 1})),
    });
  } finally {
    await admin.disconnect();
  }
}

async function timed(work) {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function publishLongLived(topic, count, inFlight) {
  const service = new KafkaStreamService({connection, output: {topic}});
  try {
    await service.publish(anEvent(-1)); // connect outside the timing
    return await timed(async () => {
      for (let i = 0; i < count; i += inFlight) {
        const batch = [];
        for (let j = i; j < Math.min(i + inFlight, count); j++) {
          batch.push(service.publish(anEvent(j)));
        }
        await Promise.all(batch);
      }
    });
  } finally {
    await service.stop();
  }
}

async function publishPerEvent(topic, count) {
  return timed(async () => {
    for (let i = 0; i < count; i++) {
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic,
        compression: CompressionTypes.GZIP,
        messages: [{value: JSON.stringify(anEvent(i))}],
      });
      await producer.disconnect();
    }
  });
}

async function fill(topic, count) {
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < count; i += 500) {
    const messages = [];
    for (let j = i; j < Math.min(i + 500, count); j++) {
      messages.push({value: JSON.stringify({n: j, description: 'bench'})});
    }
    await producer.send({topic, messages});
  }
  await producer.disconnect();
}

/** ms from the first handled message to the last (group join excluded). */
async function consume(topic, count, handle) {
  const service = new KafkaStreamService({
    connection,
    consumer: {groupId: `bench-${run}-${topic}`},
    topics: [topic],
    fromBeginning: true,
  });
  let handled = 0;
  let first = 0n;
  let done;
  const finished = new Promise(resolve => (done = resolve));
  await service.subscribe(async event => {
    if (handled === 0) first = process.hrtime.bigint();
    await handle(event);
    if (++handled === count) done(process.hrtime.bigint());
  });
  const last = await finished;
  await service.stop();
  return Number(last - first) / 1e6;
}

async function withPg(work) {
  const client = new Client({
    host: process.env.TEST_DB_HOST || '127.0.0.1',
    port: Number(process.env.TEST_DB_PORT || 5432),
    user: process.env.TEST_DB_USER || 'postgres',
    password: process.env.TEST_DB_PASSWORD,
    database: 'postgres',
  });
  await client.connect();
  try {
    await client.query(
      'CREATE TEMP TABLE bench_events (key text, source text, payload json, "timestamp" bigint)',
    );
    const result = await work(client);
    return result;
  } finally {
    await client.end();
  }
}

async function main() {
  const t = name => `bench-${name}-${run}`;
  await createTopics(
    t('long'),
    t('pipelined'),
    t('per-event'),
    t('in-noop'),
    t('in-store'),
  );
  const rows = [];
  const row = (what, count, ms) =>
    rows.push({
      what,
      events: count,
      'ms total': Math.round(ms),
      'ms/event': +(ms / count).toFixed(3),
      'events/s': Math.round((count * 1000) / ms),
    });

  row(
    'publish, one long-lived producer, awaited one by one',
    PUBLISH,
    await publishLongLived(t('long'), PUBLISH, 1),
  );
  row(
    'publish, one long-lived producer, 50 in flight',
    PUBLISH,
    await publishLongLived(t('pipelined'), PUBLISH, 50),
  );
  row(
    'publish, new producer per event (original)',
    PER_EVENT,
    await publishPerEvent(t('per-event'), PER_EVENT),
  );

  await fill(t('in-noop'), CONSUME);
  row(
    'consume + adapt + commit each, no-op handler',
    CONSUME,
    await consume(t('in-noop'), CONSUME, async () => {}),
  );
  await fill(t('in-store'), CONSUME);
  const storeMs = await withPg(pg =>
    consume(t('in-store'), CONSUME, event =>
      pg.query(
        'INSERT INTO bench_events (key, source, payload, "timestamp") VALUES ($1, $2, $3, $4)',
        [
          event.key,
          event.source,
          JSON.stringify(event.payload),
          event.timestamp,
        ],
      ),
    ),
  );
  row('consume + store in PostgreSQL + commit each', CONSUME, storeMs);

  console.log(`Kafka connector benchmark, broker ${brokers.join(',')}`);
  console.table(rows);
}

main().catch(err => {
  console.error(err.message);
  process.exitCode = 1;
});
