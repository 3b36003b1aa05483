import {Options} from '@loopback/repository';

/** An incoming event as it is stored (`events`). */
export interface IncomingEventRow {
  key: string;
  description?: string;
  source?: string;
  payload: object;
  /** ms since the epoch. */
  timestamp: number;
}

/** An incoming event to store, with its id at its source if it has one. */
export interface IncomingEventToStore {
  event: IncomingEventRow;
  sourceId?: string;
}

/** What storing an incoming event came to, and the workflows mapped to its key. */
export interface StoredIncomingEvent {
  /** The event stored now; undefined when an earlier delivery of its source id stored it. */
  id?: string;
  /** The workflow keys of the live mappings of the event's key, in the order they were made. */
  workflowKeys: string[];
}

/**
 * What became of incoming events that carry a source id: the event stored
 * for each (`event_receipts`) and the mapped workflows each has started
 * (`event_workflow_runs`).
 */
export interface EventReceiptStore {
  /**
   * Claims `sourceId` for the event stored in the transaction of `options`:
   * false when another delivery of it got there first (this waits for that
   * one's transaction).
   */
  claim(sourceId: string, eventId: string, options: Options): Promise<boolean>;
  /**
   * Optional, the lean path of every incoming event: in one statement,
   * stores the event (with a `sourceId`, only if no delivery of it was
   * stored before, waiting for a concurrent one) and reads the workflow
   * keys mapped to its key. Without it the event processor stores the event
   * in a transaction with `claim` and reads the mappings through their
   * repository.
   */
  storeAndMap?(
    event: IncomingEventRow,
    sourceId?: string,
  ): Promise<StoredIncomingEvent>;
  /**
   * Optional: `storeAndMap` for many events at once (a fetched batch), all
   * or nothing, with the results in the order of `events`. A source id
   * given twice is stored by its first event; the later ones get no id, as
   * a redelivery does. Throws having stored none of them when it fails
   * (also when, on some databases, another delivery of one of the source
   * ids commits meanwhile): the caller then stores them one by one.
   */
  storeAndMapAll?(
    events: IncomingEventToStore[],
  ): Promise<StoredIncomingEvent[]>;
  /** The event stored for `sourceId`, if any. */
  eventIdOf(sourceId: string): Promise<string | undefined>;
  /**
   * Claims the start of the workflow mapped under `workflowKey` for the
   * event, in the transaction of `options`: false when it has started (or
   * been skipped) already. A concurrent delivery of the same event waits
   * here for the first one's transaction, so only one of them starts it.
   */
  claimStart(
    eventId: string,
    workflowKey: string,
    options: Options,
  ): Promise<boolean>;
  /**
   * Records the instance the claimed start made (none when the workflow was
   * unknown and skipped). Without `options.transaction` it claims and
   * records in one statement.
   */
  recordStart(
    eventId: string,
    workflowKey: string,
    instanceId: string | undefined,
    options?: Options,
  ): Promise<void>;
}
