'use strict';
/**
 * Kafka in: consume → store → commit. N messages are produced to the topic
 * the service consumes (its consumer group joined first); the rate is N over
 * the time until the group has committed all N (and all N events are
 * stored). Ceiling: a raw kafkajs consumer doing one INSERT per message, on
 * a topic of the same shape. Targets: ≥ 3,000 events/s and ≥ 0.5 × raw.
 *
 *   npm run bench:kafka-in    (BENCH_KAFKA_EVENTS, default 10000)
 */
const crypto = require('crypto');
const {env} = require('./lib/env');
const {scratchDatabase} = require('./lib/db');
const {interleave} = require('./lib/load');
const {profiled, startChild} = require('./lib/proc');
const k = require('./lib/kafka');
const {header, median, ratioLine, targetLine} = require('./lib/report');
const {commonEnv, startService} = require('./lib/service');

const BENCH = 'kafka-in';
const EVENTS = Number(process.env.BENCH_KAFKA_EVENTS ?? 10000);
/** Partitions of both topics. */
const PARTITIONS = Number(process.env.BENCH_KAFKA_PARTITIONS ?? 1);

async function main() {
  header(BENCH, 'consume → store → commit against a raw consumer');
  const run = crypto.randomBytes(3).toString('hex');
  const topic = `bench-in-${run}`;
  const rawTopic = `bench-in-raw-${run}`;
  const group = `bench-in-${run}`;
  const rawGroup = `bench-in-raw-${run}`;
  await k.createTopic(topic, PARTITIONS);
  await k.createTopic(rawTopic, PARTITIONS);
  const db = await scratchDatabase(BENCH);
  const children = [];
  const producer = k.kafka.producer();
  try {
    const service = await startService(db, {
      TASK_INCOMING: 'kafka',
      KAFKA_TOPICS: topic,
      KAFKA_GROUP_ID: group,
    });
    children.push(service);
    const raw = await startChild(
      'raw-consumer',
      {
        ...commonEnv(db),
        KAFKA_SERVER: env.kafkaBrokers.join(','),
        KAFKA_TOPIC: rawTopic,
        KAFKA_GROUP_ID: rawGroup,
      },
      {name: 'raw consumer'},
    );
    children.push(raw);
    await producer.connect();
    await k.waitForGroup(group);
    await k.waitForGroup(rawGroup);

    let batch = 0;
    const sent = {[topic]: 0, [rawTopic]: 0};
    const consume = async (to, groupId, n = EVENTS) => {
      const before = await k.committed(groupId, to);
      batch++;
      sent[to] += n;
      const messages = Array.from({length: n}, (_, i) => ({
        key: `order-${i % 100}`,
        value: JSON.stringify({
          orderId: `order-${batch}-${i}`,
          amount: i % 1000,
          description: 'An order arrived',
        }),
      }));
      const started = Date.now();
      for (let i = 0; i < n; i += 1000) {
        await producer.send({topic: to, messages: messages.slice(i, i + 1000)});
      }
      const done = await k.until(
        async () => (await k.committed(groupId, to)) - before >= n,
        `${groupId} to commit ${n} messages`,
      );
      return (n * 1000) / (done - started);
    };
    await consume(topic, group, Math.min(EVENTS, 1000));
    await consume(rawTopic, rawGroup, Math.min(EVENTS, 1000));
    const rounds = await interleave(
      env.rounds,
      () => consume(topic, group),
      () => consume(rawTopic, rawGroup),
    );
    ratioLine({
      bench: BENCH,
      what: `Kafka → stored events, ${EVENTS} messages, ${PARTITIONS} partition(s)`,
      unit: 'events/s',
      ours: rounds.a,
      ceiling: rounds.b,
      ceilingName: 'raw consumer',
      target: 0.5,
    });
    targetLine({
      bench: BENCH,
      what: 'Kafka → stored events rate',
      unit: 'events/s',
      value: median(rounds.a),
      atLeast: 3000,
    });
    await profiled(service, BENCH, 'consume', () => consume(topic, group));
    const [{ours, theirs}] = await db.query(
      `SELECT count(*) FILTER (WHERE key = $1)::int AS ours,
              count(*) FILTER (WHERE key = $2)::int AS theirs
         FROM main.events`,
      [topic, rawTopic],
    );
    // Every produced message was stored (at least once) by each side.
    if (ours < sent[topic] || theirs < sent[rawTopic]) {
      throw new Error(
        `stored ${ours} of ${sent[topic]} (service) and ${theirs} of ${sent[rawTopic]} (raw)`,
      );
    }
  } finally {
    await producer.disconnect().catch(() => {});
    for (const child of children.reverse()) await child.stop();
    await db.drop();
    await k.deleteTopics(topic, rawTopic, `${topic}.dlq`);
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
