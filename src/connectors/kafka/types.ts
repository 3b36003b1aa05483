import type {
  ConsumerConfig,
  KafkaConfig as KafkaConnectionConfig,
  KafkaMessage,
  ProducerConfig,
} from 'kafkajs';
import type {IEvent} from '../../interfaces';

/** Codecs a producer may use; all but gzip need a codec registered with kafkajs. */
export type KafkaCompression = 'gzip' | 'none' | 'snappy' | 'lz4' | 'zstd';

export interface KafkaOutputConfig {
  /** The topic every published event goes to. */
  topic: string;
  /** The message key: a fixed string, or computed from the event. */
  key?: string | ((event: IEvent) => string);
}

export interface KafkaRetryConfig {
  /** Tries of the handler per message before it is dead-lettered; default 3. */
  attempts?: number;
  /** Wait (ms) before the second try; doubles for each further try; default 200. */
  initialBackoffMs?: number;
}

/** Configuration of the Kafka connector, bound at `TaskServiceKafkaModule.CONFIG`. */
export interface KafkaConfig {
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
  /** Where the outgoing side publishes. */
  output?: KafkaOutputConfig;
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
