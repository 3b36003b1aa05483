import {
  BindingScope,
  inject,
  lifeCycleObserver,
  LifeCycleObserver,
} from '@loopback/core';
import type {
  Admin,
  CompressionTypes,
  Consumer,
  EachBatchPayload,
  IHeaders,
  Kafka,
  KafkaMessage,
  Message,
  Producer,
} from 'kafkajs';
import type {
  EventBatchHandler,
  EventHandler,
  EventRemainder,
  IEvent,
  IEventAdapter,
  IIncomingConnector,
  IOutgoingConnector,
} from '../../interfaces';
import {isUnavailableError} from '../../errors';
import {exponentialBackoff} from '../../utils';
import {TaskObservabilityBindings} from '../../observability/keys';
import {fallbackLogger} from '../../observability/logger';
import type {TaskMetrics} from '../../observability/metrics';
import type {HealthCheckable, TaskLogger} from '../../observability/types';
import {createKafkaClient} from './kafka-client.provider';
import {KafkaEventAdapter} from './kafka-event.adapter';
import {loadKafkajs} from './kafkajs-loader';
import {TaskServiceKafkaModule} from './keys';
import {KafkaCompression, KafkaConfig, KafkaIncomingMessage} from './types';

/** Headers a dead-lettered message carries besides its own. */
export const DeadLetterHeaders = {
  ERROR: 'x-dlq-error',
  SOURCE_TOPIC: 'x-dlq-source-topic',
  PARTITION: 'x-dlq-partition',
  OFFSET: 'x-dlq-offset',
  ATTEMPTS: 'x-dlq-attempts',
} as const;

/**
 * Uncompressed bytes of messages (keys and values) `publishBatch` puts in
 * one request: below the broker's default `message.max.bytes` (1 MB).
 */
export const MAX_BATCH_BYTES = 1_000_000;

/**
 * `messages` in order, cut into parts of at most `maxBytes` of keys and
 * values each; a message larger than that is a part of its own.
 */
export function bySize(messages: Message[], maxBytes: number): Message[][] {
  const parts: Message[][] = [];
  let part: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message.key) + sizeOf(message.value);
    if (part.length && bytes + size > maxBytes) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(message);
    bytes += size;
  }
  if (part.length) parts.push(part);
  return parts;
}

function sizeOf(data: Buffer | string | null | undefined): number {
  if (data === null || data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

const COMPRESSION: Record<KafkaCompression, keyof typeof CompressionTypes> = {
  none: 'None',
  gzip: 'GZIP',
  snappy: 'Snappy',
  lz4: 'LZ4',
  zstd: 'ZSTD',
};

/**
 * Events in from Kafka topics and out to a Kafka topic.
 *
 * In: at-least-once. An offset is committed only after the handler
 * succeeded, or after the message was safely written to the dead-letter
 * topic once its retries were spent.
 * Out: one producer, connected on first use and reused until `stop()`.
 *
 * Bind it in singleton scope (`toInjectable`, or `toClass(...).inScope(SINGLETON)`):
 * each instance owns its own consumer and producer.
 */
@lifeCycleObserver('task-service-kafka', {scope: BindingScope.SINGLETON})
export class KafkaStreamService
  implements
    IIncomingConnector,
    IOutgoingConnector,
    LifeCycleObserver,
    HealthCheckable
{
  /** Its name among the checks of `GET /ready`. */
  readonly healthCheckName = 'kafka';
  private readonly kafka: Kafka;
  private readonly adapter: IEventAdapter<
    KafkaIncomingMessage,
    IEvent,
    Message
  >;
  private consumer?: Consumer;
  private producerReady?: Promise<Producer>;
  private readonly inFlight = new Set<Promise<void>>();
  private unsubscribing?: Promise<void>;
  private stopping = false;
  private stopped = false;
  private codec?: CompressionTypes;
  private healthAdmin?: Promise<Admin>;
  private droppedWarned = false;

  constructor(
    @inject(TaskServiceKafkaModule.CONFIG)
    private readonly config: KafkaConfig,
    @inject(TaskServiceKafkaModule.KAFKA_CLIENT, {optional: true})
    kafka?: Kafka,
    @inject(TaskServiceKafkaModule.ADAPTER, {optional: true})
    adapter?: IEventAdapter<KafkaIncomingMessage, IEvent, Message>,
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
    @inject(TaskObservabilityBindings.METRICS, {optional: true})
    private readonly metrics?: TaskMetrics,
  ) {
    this.kafka = kafka ?? createKafkaClient(config);
    this.adapter = adapter ?? new KafkaEventAdapter(config);
  }

  /**
   * Consumes the configured topics. With a `batchHandler`, each fetched
   * batch's events go to it at once, and what it leaves of each runs as the
   * handler would; messages that are no event, and every message of a batch
   * it failed, go to the handler one by one.
   */
  async subscribe(
    handler: EventHandler,
    batchHandler?: EventBatchHandler,
  ): Promise<void> {
    if (this.consumer) {
      throw new Error('KafkaStreamService: already subscribed');
    }
    const {consumer: consumerConfig, topics = []} = this.config;
    if (!consumerConfig?.groupId) {
      throw new Error(
        'KafkaStreamService: KafkaConfig.consumer.groupId is needed to subscribe',
      );
    }
    if (!topics.length) {
      throw new Error('KafkaStreamService: KafkaConfig.topics is empty');
    }
    const consumer = this.kafka.consumer(consumerConfig);
    this.consumer = consumer;
    this.stopping = false;
    consumer.on(consumer.events.CRASH, ({payload}) => {
      this.logger.error(
        {
          err: payload.error,
          groupId: consumerConfig.groupId,
          restart: payload.restart,
        },
        'Kafka consumer crashed',
      );
    });
    try {
      await this.ensureTopics(topics);
      await consumer.connect();
      await consumer.subscribe({
        topics,
        fromBeginning: this.config.fromBeginning ?? false,
      });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: payload =>
          this.track(
            this.consumeBatch(consumer, payload, handler, batchHandler),
          ),
      });
    } catch (err) {
      this.consumer = undefined;
      await consumer.disconnect().catch(disconnectErr => {
        this.logger.error(
          {err: disconnectErr},
          'Kafka consumer: disconnect after a failed subscribe failed',
        );
      });
      throw err;
    }
  }

  /** Stops fetching, lets the messages being handled finish, disconnects. */
  unsubscribe(): Promise<void> {
    this.unsubscribing ??= this.doUnsubscribe().finally(() => {
      this.unsubscribing = undefined;
    });
    return this.unsubscribing;
  }

  /**
   * Produces the event to `output.topic`. Without an output topic the event
   * is dropped, as the original did: the outbox then counts it published
   * rather than retrying it forever. The first drop is logged.
   */
  async publish(event: IEvent): Promise<void> {
    const topic = this.config.output?.topic;
    if (!topic) {
      this.warnDropped(event);
      return;
    }
    const message = await this.adapter.adaptFrom(event);
    const producer = await this.producer();
    await producer.send({
      topic,
      messages: [message],
      compression: this.compression(),
    });
  }

  /**
   * The events in order, keyed as `publish` keys them (a task's events
   * share a partition, so they stay in order): one `sendBatch` per
   * `MAX_BATCH_BYTES` of messages, each sent once the one before it is
   * acknowledged, so that no request outgrows the broker's
   * `message.max.bytes` (1 MB by default). Throws at the first request that
   * fails; the ones before it are out.
   */
  async publishBatch(events: IEvent[]): Promise<void> {
    const topic = this.config.output?.topic;
    if (!topic) {
      if (events.length) this.warnDropped(events[0]);
      return;
    }
    const messages = await Promise.all(
      events.map(event => this.adapter.adaptFrom(event)),
    );
    const producer = await this.producer();
    for (const part of bySize(messages, MAX_BATCH_BYTES)) {
      await producer.sendBatch({
        topicMessages: [{topic, messages: part}],
        compression: this.compression(),
      });
    }
  }

  private warnDropped(event: IEvent) {
    if (this.droppedWarned) return;
    this.droppedWarned = true;
    this.logger.warn(
      {eventKey: event.key},
      'Kafka: KafkaConfig.output.topic is not set, so outgoing events are dropped (this is the first); set output.topic to publish them',
    );
  }

  /** Lets a service stopped by `stop()` publish again when the app restarts. */
  async start(): Promise<void> {
    this.stopped = false;
  }

  /**
   * The broker answers: a cluster description through an admin client kept
   * for these checks (connected on the first, dropped after a failure),
   * without retries so a broker that is away fails the check at once.
   */
  async checkHealth(): Promise<void> {
    this.healthAdmin ??= this.connectHealthAdmin();
    try {
      const admin = await this.healthAdmin;
      await admin.describeCluster();
    } catch (err) {
      const failed = this.healthAdmin;
      this.healthAdmin = undefined;
      await failed
        ?.then(admin => admin.disconnect())
        .catch(() => undefined /* it never connected */);
      throw err;
    }
  }

  private async connectHealthAdmin(): Promise<Admin> {
    const admin = this.kafka.admin({retry: {retries: 0}});
    await admin.connect();
    return admin;
  }

  /** Unsubscribes and disconnects the producer. Safe to call more than once. */
  async stop(): Promise<void> {
    // In-flight messages may still need the producer for dead letters.
    await this.unsubscribe();
    this.stopped = true;
    const admin = this.healthAdmin;
    this.healthAdmin = undefined;
    await admin
      ?.then(a => a.disconnect())
      .catch(() => undefined /* it never connected */);
    const ready = this.producerReady;
    this.producerReady = undefined;
    if (!ready) return;
    // A producer whose connect failed has nothing to disconnect.
    const producer = await ready.catch(() => undefined);
    await producer?.disconnect();
  }

  /** Alias of `stop()`. */
  disconnect(): Promise<void> {
    return this.stop();
  }

  /**
   * Creates the incoming topics that do not exist yet: a consumer cannot
   * subscribe to a missing topic on a fresh broker. A cluster that forbids
   * topic creation answers with an error, which is logged; subscribing then
   * says whether the topics are there.
   */
  private async ensureTopics(topics: string[]): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.createTopics({
        topics: topics.map(topic => ({topic})),
        waitForLeaders: true,
      });
    } catch (err) {
      this.logger.warn(
        {err, topics},
        'Kafka: could not create the incoming topics',
      );
    } finally {
      await admin.disconnect();
    }
  }

  private async doUnsubscribe(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    this.stopping = true;
    try {
      // Pause rather than stop first: kafkajs drops commits of a stopped
      // consumer, and the messages being handled still have to commit.
      consumer.pause((this.config.topics ?? []).map(topic => ({topic})));
      await Promise.allSettled([...this.inFlight]);
    } finally {
      this.consumer = undefined;
      await consumer.disconnect();
    }
  }

  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  /**
   * One fetched batch of a partition. Its events first go to the batch
   * handler together (stored in one statement); then what is left of each
   * message runs: messages of one key in their order, messages of different
   * keys side by side (up to `concurrency` at once); then one commit covers
   * every message up to the first one not handled. A message whose handler
   * keeps failing is dead-lettered and counts as handled. Unsubscribing
   * stops taking new messages and commits what was handled; so does a dead
   * letter that cannot be written, which then rejects and the rest is
   * delivered again.
   */
  private async consumeBatch(
    consumer: Consumer,
    {batch, heartbeat, resolveOffset}: EachBatchPayload,
    handler: EventHandler,
    batchHandler?: EventBatchHandler,
  ): Promise<void> {
    const {topic, partition, messages} = batch;
    const together = await this.handleTogether(
      topic,
      partition,
      messages,
      batchHandler,
    );
    const handled = new Set<string>();
    const lanes = new Map<string, KafkaMessage[]>();
    messages.forEach((message, i) => {
      if (together.has(message.offset) && !together.get(message.offset)) {
        // Handled with its batch, nothing left.
        handled.add(message.offset);
        return;
      }
      // A message without a key promises no order: a lane of its own.
      const lane = message.key
        ? `k:${message.key.toString('base64')}`
        : `m:${i}`;
      const queued = lanes.get(lane);
      if (queued) queued.push(message);
      else lanes.set(lane, [message]);
    });
    const queue = [...lanes.values()];
    let failure: unknown;
    const worker = async () => {
      for (let lane = queue.shift(); lane; lane = queue.shift()) {
        for (const message of lane) {
          // Left uncommitted, so the group's next consumer gets it.
          if (this.stopping || failure) return;
          const attempt =
            together.get(message.offset) ??
            (async () =>
              handler(await this.adapter.adaptTo({topic, partition, message})));
          try {
            await this.consume(topic, partition, message, attempt, heartbeat);
          } catch (err) {
            if (!(err instanceof StoppedError)) failure ??= err;
            return;
          }
          handled.add(message.offset);
          await heartbeat();
        }
      }
    };
    const concurrency = Math.max(1, this.config.concurrency ?? 16);
    await Promise.all(
      Array.from({length: Math.min(concurrency, queue.length)}, worker),
    );
    // Everything before the first message not handled is done.
    let done: string | undefined;
    for (const message of messages) {
      if (!handled.has(message.offset)) break;
      done = message.offset;
    }
    if (done !== undefined) {
      resolveOffset(done);
      await consumer.commitOffsets([
        {topic, partition, offset: (BigInt(done) + 1n).toString()},
      ]);
    }
    if (failure) throw failure;
  }

  /**
   * Hands the batch's events to the batch handler in one call. Returns,
   * by offset, what is left of each message it took (undefined: nothing);
   * a message that is no event is not taken, and when the handler fails
   * none is: each then goes to the handler alone, with its retries.
   */
  private async handleTogether(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    batchHandler?: EventBatchHandler,
  ): Promise<Map<string, EventRemainder | undefined>> {
    const left = new Map<string, EventRemainder | undefined>();
    if (!batchHandler || this.stopping) return left;
    const taken: KafkaMessage[] = [];
    const events: IEvent[] = [];
    for (const message of messages) {
      const event = await this.adapter
        .adaptTo({topic, partition, message})
        .catch(() => undefined);
      if (!event) continue;
      taken.push(message);
      events.push(event);
    }
    if (!events.length) return left;
    try {
      const remainders = await batchHandler(events);
      taken.forEach((message, i) => left.set(message.offset, remainders[i]));
    } catch (err) {
      this.logger.warn(
        {err, topic, partition, messages: taken.length},
        'Kafka batch: handling its events together failed; handling them one by one',
      );
    }
    return left;
  }

  /**
   * Runs `attempt` (the handler, or what the batch handler left of the
   * message), with retries; once they are spent, writes the message to
   * the dead-letter topic. Throws only when that fails.
   */
  private async consume(
    topic: string,
    partition: number,
    message: KafkaMessage,
    attempt: () => Promise<void>,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const attempts = Math.max(1, this.config.retry?.attempts ?? 3);
    const initialBackoffMs = this.config.retry?.initialBackoffMs ?? 200;
    const maxBackoffMs = this.config.retry?.maxBackoffMs ?? 5000;
    let lastError: Error | undefined;
    // Failures that count towards the dead-letter topic.
    let failures = 0;
    for (let tries = 1; ; tries++) {
      try {
        await attempt();
        return;
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err));
        // The engine or the database away is no fault of the message: it
        // waits for them, holding its partition, instead of being
        // dead-lettered while they restart.
        const unavailable = isUnavailableError(err);
        if (!unavailable) failures++;
        this.logger.warn(
          {
            err: lastError,
            topic,
            partition,
            offset: message.offset,
            attempt: tries,
            attempts,
            unavailable,
          },
          'Kafka message: handling failed',
        );
        if (failures === attempts) break;
        if (this.stopping) throw new StoppedError();
        await sleep(exponentialBackoff(tries, initialBackoffMs, maxBackoffMs));
        await heartbeat();
      }
    }
    // Throws if the dead-letter topic cannot be written: then nothing is
    // committed from here on and kafkajs delivers the message again.
    await this.deadLetter(topic, partition, message, lastError!, attempts);
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    error: Error,
    attempts: number,
  ): Promise<void> {
    const dlq = this.deadLetterTopic(topic);
    const headers: IHeaders = {
      ...message.headers,
      [DeadLetterHeaders.ERROR]: error.message,
      [DeadLetterHeaders.SOURCE_TOPIC]: topic,
      [DeadLetterHeaders.PARTITION]: String(partition),
      [DeadLetterHeaders.OFFSET]: message.offset,
      [DeadLetterHeaders.ATTEMPTS]: String(attempts),
    };
    try {
      const producer = await this.producer();
      await producer.send({
        topic: dlq,
        messages: [
          {
            key: message.key,
            value: message.value,
            timestamp: message.timestamp,
            headers,
          },
        ],
        compression: this.compression(),
      });
    } catch (err) {
      throw new Error(
        `Kafka message ${topic}[${partition}]@${message.offset} failed (${error.message}) and could not be written to ${dlq}: ${(err as Error).message}`,
        {cause: err},
      );
    }
    this.metrics?.kafkaDeadLetters.inc({topic});
    this.logger.error(
      {
        err: error,
        topic,
        partition,
        offset: message.offset,
        deadLetterTopic: dlq,
        attempts,
      },
      'Kafka message moved to the dead-letter topic',
    );
  }

  private deadLetterTopic(topic: string): string {
    const dlq = this.config.deadLetterTopic;
    if (typeof dlq === 'function') return dlq(topic);
    return dlq ?? `${topic}.dlq`;
  }

  /** The one producer; concurrent first calls share one connect. */
  private producer(): Promise<Producer> {
    if (this.stopped) {
      return Promise.reject(
        new Error('KafkaStreamService: stopped; it cannot publish any more'),
      );
    }
    this.producerReady ??= this.connectProducer();
    return this.producerReady;
  }

  private async connectProducer(): Promise<Producer> {
    const producer = this.kafka.producer(this.config.producer);
    try {
      await producer.connect();
      return producer;
    } catch (err) {
      // The next publish tries a fresh connect.
      this.producerReady = undefined;
      throw err;
    }
  }

  /** The codec of published messages, looked up once. */
  private compression(): CompressionTypes {
    if (this.codec === undefined) {
      const name = COMPRESSION[this.config.compression ?? 'gzip'];
      this.codec = loadKafkajs().CompressionTypes[name];
    }
    return this.codec;
  }
}

/** Unsubscribing while a message waited for its retry: it stays uncommitted. */
class StoppedError extends Error {
  constructor() {
    super('unsubscribed before the message was handled');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
