'use strict';
/** The Kafka broker of the benchmarks: topics, offsets, group state. */
const {Kafka, logLevel} = require('kafkajs');
const {env} = require('./env');

const kafka = new Kafka({
  clientId: 'task-bench',
  brokers: env.kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
let admin;

async function getAdmin() {
  if (admin) return admin;
  const a = kafka.admin();
  try {
    await a.connect();
  } catch (err) {
    throw new Error(
      `Kafka is not reachable on ${env.kafkaBrokers.join(',')} (${err.message}): run \`npm run services:up\` or set KAFKA_BROKERS`,
    );
  }
  admin = a;
  return admin;
}

async function createTopic(topic, partitions = 1) {
  await (
    await getAdmin()
  ).createTopics({
    waitForLeaders: true,
    topics: [{topic, numPartitions: partitions}],
  });
}

async function deleteTopics(...topics) {
  await (await getAdmin()).deleteTopics({topics}).catch(() => {});
}

/** Messages in the topic so far (the sum of its partitions' high watermarks). */
async function endOffset(topic) {
  const offsets = await (await getAdmin()).fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high), 0);
}

/** Offsets the group has committed on the topic, summed over partitions. */
async function committed(groupId, topic) {
  const [entry] = await (
    await getAdmin()
  ).fetchOffsets({groupId, topics: [topic]});
  return (entry?.partitions ?? []).reduce(
    (n, p) => n + Math.max(0, Number(p.offset)),
    0,
  );
}

/** Waits until the group has a member assigned and is stable. */
async function waitForGroup(groupId, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const {groups} = await (await getAdmin()).describeGroups([groupId]);
    if (groups[0]?.state === 'Stable' && groups[0].members.length) return;
    if (Date.now() > deadline) {
      throw new Error(`Consumer group ${groupId} did not become stable`);
    }
    await new Promise(r => setTimeout(r, 100));
  }
}

/** Polls `check` every 10 ms until it holds; the time (ms) it first held. */
async function until(check, what, timeoutMs = 300000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return Date.now();
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 10));
  }
}

async function close() {
  await admin?.disconnect();
  admin = undefined;
}

module.exports = {
  kafka,
  createTopic,
  deleteTopics,
  endOffset,
  committed,
  waitForGroup,
  until,
  close,
};
