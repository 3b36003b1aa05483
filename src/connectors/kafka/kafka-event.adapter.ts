import {inject} from '@loopback/core';
import type {AnyObject} from '@loopback/repository';
import type {Message} from 'kafkajs';
import type {IEvent, IEventAdapter} from '../../interfaces';
import {Source} from '../../models/enums';
import {orderingKeysOf} from '../../utils/ordering-keys';
import {TaskServiceKafkaModule} from './keys';
import {KafkaConfig, KafkaIncomingMessage} from './types';

/**
 * The default adapter, as the original: a message's topic is the event key
 * and its JSON value the payload; an event goes out as its own JSON, keyed
 * by its task unless `output.key` says otherwise.
 */
export class KafkaEventAdapter implements IEventAdapter<
  KafkaIncomingMessage,
  IEvent,
  Message
> {
  constructor(
    @inject(TaskServiceKafkaModule.CONFIG, {optional: true})
    private readonly config: KafkaConfig | undefined,
  ) {}

  async adaptTo({topic, partition, message}: KafkaIncomingMessage) {
    const where = `Kafka message ${topic}[${partition}]@${message.offset}`;
    if (message.value === null) {
      throw new Error(`${where} has no value; expected a JSON object`);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(message.value.toString('utf8'));
    } catch (err) {
      throw new Error(
        `${where} is not JSON: ${(err as Error).message}; expected a JSON object`,
        {cause: err},
      );
    }
    // The payload becomes the workflows' input variables: it must be an object.
    if (
      payload === null ||
      typeof payload !== 'object' ||
      Array.isArray(payload)
    ) {
      throw new Error(`${where} is JSON but not an object`);
    }
    const event: IEvent = {
      id: `kafka:${topic}:${partition}:${message.offset}`,
      key: topic,
      timestamp: Number(message.timestamp),
      source: Source.Kafka,
      payload: payload as AnyObject,
    };
    return event;
  }

  /**
   * The event as its JSON, keyed by `output.key` when configured, else by
   * the task it concerns (its first ordering key), so the events of one
   * task share a partition and keep their order there. An event that names
   * no task goes without a key.
   */
  async adaptFrom(event: IEvent): Promise<Message> {
    const key = this.config?.output?.key;
    return {
      key:
        key === undefined
          ? (orderingKeysOf(event)[0] ?? null)
          : typeof key === 'function'
            ? key(event)
            : key,
      value: JSON.stringify(event),
    };
  }
}
