// Smoke check of the local Kafka broker with kafkajs: creates a topic,
// produces one message and consumes it back.
//   node services/kafka/smoke.js        (KAFKA_PORT, default 9092)
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
const {Kafka, logLevel} = require('kafkajs');

async function main() {
  const broker = `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`;
  const kafka = new Kafka({
    clientId: 'services-smoke',
    brokers: [broker],
    logLevel: logLevel.WARN,
  });
  const topic = `services-smoke-${Date.now()}`;
  const started = Date.now();

  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{topic, numPartitions: 1}],
    waitForLeaders: true,
  });
  await admin.disconnect();

  const producer = kafka.producer();
  await producer.connect();
  await producer.send({topic, messages: [{key: 'k', value: 'hello'}]});
  await producer.disconnect();

  const consumer = kafka.consumer({groupId: `${topic}-group`});
  await consumer.connect();
  await consumer.subscribe({topics: [topic], fromBeginning: true});
  const value = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('no message within 30 s')),
      30000,
    );
    consumer
      .run({
        eachMessage: async ({message}) => {
          clearTimeout(timer);
          resolve(message.value.toString());
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  if (value !== 'hello') throw new Error(`consumed ${value}`);
  await admin.connect();
  await admin.deleteTopics({topics: [topic]});
  await admin.disconnect();
  console.log(
    `kafka ${broker}: topic ${topic} created, 1 message produced and consumed in ${Date.now() - started} ms`,
  );
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
