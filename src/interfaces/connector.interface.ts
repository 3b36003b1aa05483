import {Options} from '@loopback/repository';
import {IEvent} from './event.interface';

export type EventHandler<E = IEvent> = (event: E) => Promise<void>;

/**
 * A source of events: Kafka topics, an HTTP route, ... `E` may be any type,
 * as in the original (the service itself hands on `IEvent`s).
 */
export interface IIncomingConnector<E = IEvent> {
  subscribe(handler: EventHandler<E>): Promise<void>;
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
   * say). The relay hands over no two events of one task in a call, so any
   * order among them is right. Either all are published or it throws; the
   * relay then publishes them one by one to find the failing one.
   */
  publishBatch?(events: E[], options?: Options): Promise<void>;
}
