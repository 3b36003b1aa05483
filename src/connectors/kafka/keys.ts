import {BindingKey} from '@loopback/core';
import type {Kafka, Message} from 'kafkajs';
import type {IEvent, IEventAdapter} from '../../interfaces';
import type {KafkaConfig, KafkaIncomingMessage} from './types';

const PREFIX = 'sf.task.kafka';

/** Binding keys of the Kafka connector. */
export namespace TaskServiceKafkaModule {
  /** Brokers, consumer group, topics in and out, retries and dead letters. */
  export const CONFIG = BindingKey.create<KafkaConfig>(`${PREFIX}.config`);
  /** Turns consumed messages into events and events into messages to produce. */
  export const ADAPTER = BindingKey.create<
    IEventAdapter<KafkaIncomingMessage, IEvent, Message>
  >(`${PREFIX}.adapter`);
  /** The kafkajs client; when unbound, one is made from `CONFIG.connection`. */
  export const KAFKA_CLIENT = BindingKey.create<Kafka>(`${PREFIX}.client`);
}
