import {IEvent} from './event.interface';

export type EventHandler<E extends IEvent = IEvent> = (
  event: E,
) => Promise<void>;

/** A source of events: Kafka topics, an HTTP route, ... */
export interface IIncomingConnector<E extends IEvent = IEvent> {
  subscribe(handler: EventHandler<E>): Promise<void>;
  unsubscribe(): Promise<void>;
}

/** Where the service announces what happened. */
export interface IOutgoingConnector<E extends IEvent = IEvent> {
  publish(event: E): Promise<void>;
}
