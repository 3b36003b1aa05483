import type {
  ConsumerConfig,
  KafkaConfig as KafkaConnectionConfig,
  KafkaMessage,
  ProducerConfig,
} from 'kafkajs';
import type {IEvent} from '../../interfaces';

/** Codecs a producer may use; all but gzip need a codec registered with kafkajs. */
export type KafkaCompression = 'gzip' | 'none' | 'snappy' | 'lz4' | 'zstd';

export interface KafkaOutputConfig<E = IEvent> {
  /** The topic every published event goes to. */
  topic: string;
  /**
   * The message key: a fixed string, or computed from the event. Default:
   * the id of the task the event concerns (the first created task for a
   * `task-created` naming several), so a task's events share a partition.
   */
  key?: string | ((event: E) => string);
}

export interface KafkaRetryConfig {
  /**
   * Failed tries of the handler per message before it is dead-lettered;
   * default 3. Failures because the engine or the database is unavailable
   * (`isUnavailableError`) do not count: such a message is tried until they
   * are back, holding its partition.
   */
  attempts?: number;
  /** Wait (ms) before the second try; doubles for each further try; default 200. */
  initialBackoffMs?: number;
  /** Longest wait (ms) between two tries; default 5000 (below the session timeout). */
  maxBackoffMs?: number;
}

/**
 * Configuration of the Kafka connector, bound at `TaskServiceKafkaModule.CONFIG`.
 * `E` is the type of the events its key function sees (generic, as the original's).
 */
export interface KafkaConfig<E = IEvent> {
  /** kafkajs client options (brokers, clientId, ssl, sasl, ...). */
  connection: KafkaConnectionConfig;
  /** Consumer options; `groupId` is needed to subscribe. */
  consumer?: ConsumerConfig;
  producer?: ProducerConfig;
  /** Topics the incoming side consumes. */
  topics?: string[];
  /**
   * Where a new consumer group starts: `true` reads each topic from its
   * earliest offset, `false` (kafkajs' default) only new messages.
   */
  fromBeginning?: boolean;
  /**
   * Where the outgoing side publishes. Without it, outgoing events are
   * dropped with a warning (as the original did), so a Kafka connector used
   * for incoming events only never holds up the outbox.
   */
  output?: KafkaOutputConfig<E>;
  /** Compression of published messages; default gzip, as the original. */
  compression?: KafkaCompression;
  retry?: KafkaRetryConfig;
  /**
   * Messages of one fetched batch handled at once, never two of the same
   * key (those keep their order); default 16. 1 handles one at a time.
   */
  concurrency?: number;
  /**
   * Where a message goes once its retries are spent: a topic name, or a
   * function of the source topic; default `<topic>.dlq`.
   */
  deadLetterTopic?: string | ((topic: string) => string);
}

/** One consumed message and where it came from, as the adapter receives it. */
export interface KafkaIncomingMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
}
