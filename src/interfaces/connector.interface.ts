import {Options} from '@loopback/repository';
import {IEvent} from './event.interface';

export type EventHandler<E = IEvent> = (event: E) => Promise<void>;

/**
 * What is left of handling one event after its batch was handled together
 * (its mapped workflows to start, say). The connector runs it where it
 * would have called the handler for that event, in the same order and
 * with the same retries.
 */
export type EventRemainder = () => Promise<void>;

/**
 * Handles events that arrived together (one fetched batch) as far as they
 * can go together, and returns, in their order, what is left of each
 * (undefined: nothing). All or nothing: when it rejects, none of them was
 * handled, and the connector hands each to the event handler instead.
 */
export type EventBatchHandler<E = IEvent> = (
  events: E[],
) => Promise<(EventRemainder | undefined)[]>;

/**
 * A source of events: Kafka topics, an HTTP route, ... `E` may be any type,
 * as in the original (the service itself hands on `IEvent`s).
 */
export interface IIncomingConnector<E = IEvent> {
  /**
   * Hands each event to `handler`. A connector that receives events in
   * batches may first hand a batch to `batchHandler` (one statement for
   * all of them rather than one each), then run what it left of each event
   * instead of calling `handler`.
   */
  subscribe(
    handler: EventHandler<E>,
    batchHandler?: EventBatchHandler<E>,
  ): Promise<void>;
  unsubscribe(): Promise<void>;
}

/** Where the service announces what happened. */
export interface IOutgoingConnector<E = IEvent> {
  /**
   * Publishes an event. The relay passes its database `transaction` in
   * `options`: a connector that records the event in the database (the HTTP
   * connector's deliveries) writes inside it, so it commits exactly once.
   */
  publish(event: E, options?: Options): Promise<void>;
  /**
   * Optional: publishes several events at once (one request to a broker,
   * say), in the order given: a task's events come in their order, so a
   * connector that sends them in parts sends those in order too. Either all
   * are published or it throws; the relay then publishes them one by one
   * to find the failing one.
   */
  publishBatch?(events: E[], options?: Options): Promise<void>;
}
