import {Options} from '@loopback/repository';
import {IEvent} from '../interfaces';
import {orderingKeysOf} from '../utils';

/** An event in the outbox, as the relay takes it. */
export interface OutboxEntry {
  id: string;
  event: IEvent;
  /** Publishes tried so far (since the last replay). */
  attempts: number;
  /** When the previous publish was tried; none before the first. */
  lastAttemptOn?: Date;
  /** Its place in the order events were written, where the store tells it. */
  seq?: number;
}

/** A candidate to follow a claimed event on its key, as a store reads it. */
export interface FollowerRow {
  entry: OutboxEntry;
  /** The key of the run it would join. */
  key: string;
  /** Neither published, parked nor discarded, and past its backoff. */
  due: boolean;
  /** How many ordering keys the event has. */
  keyCount: number;
}

/**
 * A task's run in a round: the events behind its claimed event (`seq` on
 * `key`), up to `limit` of them.
 */
export interface FollowerRun {
  key: string;
  seq: number;
  limit: number;
}

/**
 * The runs the claimed events start: those with one key (and their seq),
 * each allowed `perKey` followers.
 */
export function singleKeyRuns(
  claimed: OutboxEntry[],
  perKey: number,
): FollowerRun[] {
  const runs: FollowerRun[] = [];
  if (perKey <= 0) return runs;
  for (const entry of claimed) {
    const keys = orderingKeysOf(entry.event);
    if (keys.length === 1 && entry.seq !== undefined) {
      runs.push({key: keys[0], seq: entry.seq, limit: perKey});
    }
  }
  return runs;
}

/**
 * Runs taken in turns, up to `room` events: each run's next event before
 * any run's one after it, runs in the order given. Each run stays in its
 * order.
 */
export function inTurns<T>(runs: T[][], room: number): T[] {
  const taken: T[] = [];
  for (let turn = 0; taken.length < room; turn++) {
    let any = false;
    for (const run of runs) {
      if (turn >= run.length) continue;
      any = true;
      taken.push(run[turn]);
      if (taken.length >= room) break;
    }
    if (!any) break;
  }
  return taken;
}

/**
 * The followers a round takes, from candidates in key and `seq` order
 * (each behind its run's claimed event, within its run's limit): per key,
 * those that are due and of that key alone, up to the first that is not;
 * then in turns (`inTurns`), `room` in all.
 */
export function takeRuns(rows: FollowerRow[], room: number): OutboxEntry[] {
  const runs: OutboxEntry[][] = [];
  let key: string | undefined;
  let run: OutboxEntry[] = [];
  let stopped = false;
  for (const row of rows) {
    if (row.key !== key) {
      key = row.key;
      run = [];
      runs.push(run);
      stopped = false;
    }
    if (stopped) continue;
    if (!row.due || row.keyCount !== 1) {
      stopped = true;
      continue;
    }
    run.push(row.entry);
  }
  return inTurns(runs, room);
}

/** What became of a publish that failed. */
export interface OutboxFailure {
  error: string;
  /** The event waits this long before its next try (when not parked). */
  retryInMs: number;
  /** Park the event: no more tries until it is replayed. */
  park: boolean;
  /** When the publish was tried. */
  attemptedOn: Date;
}

/** A parked event, as operators see it. */
export interface ParkedOutboxEvent {
  id: string;
  /** Its place in the order events were written. */
  seq: number;
  key: string;
  event: IEvent;
  attempts: number;
  lastError?: string;
  createdOn: Date;
  lastAttemptOn?: Date;
  parkedOn: Date;
}

/** The outbox's backlog, for readiness and metrics. */
export interface OutboxStats {
  /** Events still to publish (not parked, not discarded). */
  count: number;
  /** Age (ms) of the oldest of them; undefined when there is none. */
  oldestAgeMs?: number;
  /** Events parked after their attempts ran out. */
  parked: number;
}

/**
 * The outbox (`outbox_events`, with the ordering keys of the events still
 * to publish in `outbox_event_keys`): events written in the transaction of
 * the change that caused them, then handed out by the relay.
 *
 * Order: an event's ordering keys are the ids of the tasks it concerns
 * (`orderingKeysOf`). An event is due only when no earlier event (by `seq`)
 * that shares one of its keys is still unpublished, parked ones included;
 * events without keys are ordered with nothing.
 *
 * Cost: an event waiting behind another keeps an `available_on` no earlier
 * than that one's next try (far in the future while it is parked), so the
 * claim, which reads due events by `available_on`, never wades through a
 * backlog held back by a failing or parked event. `add` takes the latest
 * unpublished event of each key into account, `markFailed` moves the events
 * behind the failed one, `replayParked` and `discardParked` move them back
 * to now. Order itself rests on the key test alone.
 */
export interface OutboxStore {
  /**
   * Records an event to publish with its ordering keys, inside
   * `options.transaction` when given.
   */
  add(event: IEvent, options?: Options): Promise<void>;
  /**
   * Up to `limit` due events, in the order they were written, locked for
   * the transaction in `options` (other relays skip them). Due: neither
   * published, parked nor discarded, past its backoff, and first among the
   * unpublished events of each of its keys. No two events returned share a
   * key.
   */
  claimDue(limit: number, options: Options): Promise<OutboxEntry[]>;
  /**
   * Optional, with `readFollowers`: the events queued right behind claimed
   * ones (`runs`, from `singleKeyRuns` of `claimDue`'s events), read in the
   * same transaction, as ids in the order to publish them. They need no
   * lock of their own: while the claimed event is held, nobody else can
   * claim, fail or park what queues behind it on its key. Per run, in
   * order, behind its `seq`, up to its `limit`, each due and of that key
   * alone, stopping at the first that is not; the runs in turns (each
   * run's next event before any run's one after it, runs in key order),
   * `room` in all. With them a round publishes a run of a task's events
   * rather than its first one alone.
   */
  claimFollowers?(
    runs: FollowerRun[],
    room: number,
    options: Options,
  ): Promise<string[]>;
  /**
   * The events `ids` (from `claimFollowers`, in the same transaction), in
   * that order: a round reads them page by page.
   */
  readFollowers?(ids: string[], options: Options): Promise<OutboxEntry[]>;
  /** The event was handed to the connector: the events behind it may go. */
  markPublished(id: string, options: Options): Promise<void>;
  /** Optional: `markPublished` of several events in one statement. */
  markPublishedAll?(ids: string[], options: Options): Promise<void>;
  /** A publish failed: the event waits out `retryInMs`, or is parked. */
  markFailed(
    id: string,
    failure: OutboxFailure,
    options: Options,
  ): Promise<void>;
  /** How many events wait to be published, and how old the oldest is. */
  pendingStats(options?: Options): Promise<OutboxStats>;
  /** Parked events, oldest first. */
  listParked(limit: number, offset: number): Promise<ParkedOutboxEvent[]>;
  /** How many events are parked. */
  countParked(): Promise<number>;
  /**
   * When the oldest event still to publish (not parked, not discarded) was
   * written; none when every event is out. Events waiting behind a parked
   * one count: they are late too.
   */
  oldestPending(): Promise<Date | undefined>;
  /**
   * Puts a parked event back in line, due now with a fresh attempt budget.
   * False when no parked event has this id.
   */
  replayParked(id: string): Promise<boolean>;
  /**
   * Gives up a parked event for good: it is never published, and the events
   * behind it go. False when no parked event has this id.
   */
  discardParked(id: string): Promise<boolean>;
}
