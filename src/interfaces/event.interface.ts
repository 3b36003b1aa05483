import {AnyObject} from '@loopback/repository';
import type {EventRemainder} from './connector.interface';

/** An event as the task service sees it, in or out. */
export interface IEvent<T = AnyObject> {
  key: string;
  payload: T;
  /** Milliseconds since the epoch. */
  timestamp: number;
  source: string;
  description?: string;
  /**
   * Identifies this event at its source (a Kafka topic, partition and
   * offset; a client's Idempotency-Key): a redelivery with the same id is
   * stored once and starts each mapped workflow once.
   */
  id?: string;
}

/** Turns a transport's messages into events and back. */
export interface IEventAdapter<T, E = IEvent, R = unknown> {
  adaptTo(message: T): Promise<E>;
  adaptFrom(event: E): Promise<R>;
}

/** Decides what an incoming event does (stores it, starts workflows). */
export interface IEventProcessor<E extends IEvent = IEvent> {
  handle(event: E): Promise<void>;
  /**
   * Optional: handles events that arrived together as far as they can go
   * together (stored in one statement) and returns, in their order, what is
   * left of each: starting its mapped workflows, which the caller runs in
   * order per key and retries as it would retry `handle`; undefined when
   * nothing is left. All or nothing: when it rejects, none was handled.
   */
  handleBatch?(events: E[]): Promise<(EventRemainder | undefined)[]>;
}

/** Returns false to drop an incoming event before it is stored. */
export type EventFilter<E extends IEvent = IEvent> = (
  event: E,
) => boolean | Promise<boolean>;
