import {Options} from '@loopback/repository';
import {IEvent} from '../interfaces';

/** An event in the outbox, as the relay takes it. */
export interface OutboxEntry {
  id: string;
  event: IEvent;
  /** Publishes tried so far. */
  attempts: number;
}

/** The outbox's backlog, for readiness and metrics. */
export interface OutboxStats {
  /** Events not yet published. */
  count: number;
  /** Age (ms) of the oldest of them; undefined when there is none. */
  oldestAgeMs?: number;
}

/**
 * The outbox table (`outbox_events`): events written in the transaction of
 * the change that caused them, then handed out by the relay.
 */
export interface OutboxStore {
  /** Records an event to publish, inside `options.transaction` when given. */
  add(event: IEvent, options?: Options): Promise<void>;
  /**
   * Up to `limit` events due for publishing, in the order they were written,
   * locked for the transaction in `options` (other relays skip them). The
   * list ends before an event that waits out a backoff, so none overtakes it.
   */
  claimDue(limit: number, options: Options): Promise<OutboxEntry[]>;
  /** The event was handed to the connector. */
  markPublished(id: string, options: Options): Promise<void>;
  /** A publish failed: the event waits `retryInMs` before its next try. */
  markFailed(
    id: string,
    error: string,
    retryInMs: number,
    options: Options,
  ): Promise<void>;
  /** How many events wait to be published, and how old the oldest is. */
  pendingStats(options?: Options): Promise<OutboxStats>;
}
