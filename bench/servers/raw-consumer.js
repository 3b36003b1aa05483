'use strict';
/**
 * The ceiling of the Kafka-in benchmark: a raw kafkajs consumer that stores
 * each message with one INSERT (through a pg pool) and lets kafkajs commit
 * the offsets of each handled batch. No framework.
 */
const {Kafka, logLevel} = require('kafkajs');
const {ready, exitOnSigterm, poolFromEnv} = require('../lib/child');

const pool = poolFromEnv(10);
const kafka = new Kafka({
  clientId: 'bench-raw-consumer',
  brokers: process.env.KAFKA_SERVER.split(','),
  logLevel: logLevel.NOTHING,
});
const consumer = kafka.consumer({groupId: process.env.KAFKA_GROUP_ID});

async function main() {
  await consumer.connect();
  await consumer.subscribe({topics: [process.env.KAFKA_TOPIC]});
  await consumer.run({
    eachMessage: async ({topic, message}) => {
      const payload = JSON.parse(message.value.toString('utf8'));
      await pool.query(
        `INSERT INTO main.events (key, description, source, payload, "timestamp")
         VALUES ($1, $2, $3, $4, $5)`,
        [
          topic,
          `Task for ${topic}`,
          'kafka',
          JSON.stringify(payload),
          Number(message.timestamp),
        ],
      );
    },
  });
  ready({});
}

exitOnSigterm(async () => {
  await consumer.disconnect();
  await pool.end();
});
main().catch(err => {
  console.error(err);
  process.exit(1);
});
