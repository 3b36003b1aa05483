import {randomBytes} from 'crypto';
import {
  Admin,
  Consumer,
  Kafka,
  KafkaMessage,
  logLevel,
  Message,
  Producer,
  ProducerConfig,
  ProducerRecord,
} from 'kafkajs';
import {Socket} from 'net';

/** The broker of `npm run services:up`, or `KAFKA_BROKERS` (comma list). */
export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')
  .split(',')
  .map(b => b.trim());

export function kafkaConnection() {
  return {
    brokers: KAFKA_BROKERS,
    clientId: 'task-service-tests',
    // kafkajs logs every rebalance and retried error; the tests assert instead.
    logLevel: logLevel.NOTHING,
  };
}

/** Fails (never skips) when the broker does not answer. */
export async function ensureKafka(): Promise<void> {
  const [host, port] = KAFKA_BROKERS[0].split(':');
  const socket = new Socket();
  const reachable = await new Promise<boolean>(resolve => {
    socket.setTimeout(3000);
    socket.once('connect', () => resolve(true));
    socket.once('timeout', () => resolve(false));
    socket.once('error', () => resolve(false));
    socket.connect(Number(port), host);
  });
  socket.destroy();
  const failure = `Kafka is not reachable on ${KAFKA_BROKERS.join(',')}: run \`npm run services:up\``;
  if (!reachable) throw new Error(failure);
  const admin = new Kafka({...kafkaConnection(), retry: {retries: 2}}).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    throw new Error(`${failure} (${(err as Error).message})`);
  } finally {
    await admin.disconnect();
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now()}-${randomBytes(3).toString('hex')}`;
}

export async function withAdmin<T>(work: (admin: Admin) => Promise<T>) {
  const admin = new Kafka(kafkaConnection()).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopics(...topics: string[]): Promise<void> {
  await withAdmin(admin =>
    admin.createTopics({
      waitForLeaders: true,
      topics: topics.map(topic => ({topic, numPartitions: 1})),
    }),
  );
}

/** The group's committed offset of partition 0 ('-1' when none). */
export async function committedOffset(
  groupId: string,
  topic: string,
): Promise<string> {
  const [result] = await withAdmin(admin =>
    admin.fetchOffsets({groupId, topics: [topic]}),
  );
  return result.partitions.find(p => p.partition === 0)?.offset ?? '-1';
}

export async function produce(
  topic: string,
  messages: Message[],
): Promise<void> {
  const producer = new Kafka(kafkaConnection()).producer();
  await producer.connect();
  try {
    await producer.send({topic, messages});
  } finally {
    await producer.disconnect();
  }
}

/**
 * Reads a topic from the beginning until `count` messages arrived, then
 * waits `settleMs` more so that extra messages would be seen too.
 */
export async function readTopic(
  topic: string,
  count: number,
  {timeoutMs = 20000, settleMs = 500} = {},
): Promise<KafkaMessage[]> {
  const consumer: Consumer = new Kafka(kafkaConnection()).consumer({
    groupId: uniqueName('reader'),
    // A stopping consumer waits for its pending long-poll fetch: keep it short.
    maxWaitTimeInMs: 100,
  });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({topics: [topic], fromBeginning: true});
    await consumer.run({
      eachMessage: async ({message}) => {
        messages.push(message);
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (messages.length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out reading ${topic}: ${messages.length} of ${count} messages`,
        );
      }
      await sleep(50);
    }
    await sleep(settleMs);
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** A real client that counts the producers it makes and what they do. */
export class CountingKafka extends Kafka {
  producers = 0;
  connects = 0;
  disconnects = 0;
  readonly sent: ProducerRecord[] = [];

  override producer(config?: ProducerConfig): Producer {
    this.producers++;
    const producer = super.producer(config);
    const {connect, disconnect, send} = producer;
    producer.connect = async () => {
      this.connects++;
      return connect();
    };
    producer.disconnect = async () => {
      this.disconnects++;
      return disconnect();
    };
    producer.send = async record => {
      this.sent.push(record);
      return send(record);
    };
    return producer;
  }
}

export function headerText(
  message: KafkaMessage,
  name: string,
): string | undefined {
  const value = message.headers?.[name];
  return value === undefined ? undefined : value.toString();
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

export async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 30000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(50);
  }
}
