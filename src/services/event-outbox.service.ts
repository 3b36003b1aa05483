import {BindingScope, inject, injectable, service} from '@loopback/core';
import {AnyObject, Options} from '@loopback/repository';
import {TaskServiceError} from '../errors';
import {IEvent} from '../interfaces';
import {EventType, Source} from '../models';
import {OutboxStore, ParkedOutboxEvent, TaskSqlBindings} from '../sql';
import {OutboxRelay} from './outbox-relay.service';

/**
 * Where the service's own events are written: into the outbox, in the
 * transaction of the change that caused them, so a crash in between loses
 * nothing and a rollback publishes nothing. The relay publishes them after
 * the commit.
 */
@injectable({scope: BindingScope.SINGLETON})
export class EventOutbox {
  constructor(
    @inject(TaskSqlBindings.OUTBOX_STORE)
    private readonly store: OutboxStore,
    @service(OutboxRelay) private readonly relay: OutboxRelay,
  ) {}

  /**
   * Records an event to publish. Pass the change's `transaction` in
   * `options` so the event commits or rolls back with it, then call
   * `relaySoon()` after the commit.
   */
  async add(event: IEvent, options?: Options): Promise<void> {
    await this.store.add(event, options);
    if (!options?.transaction) this.relay.relaySoon();
  }

  /** Records an event of the service itself (`source: task-service`). */
  announce(key: EventType, payload: AnyObject, options?: Options) {
    return this.add(
      {key, payload, timestamp: Date.now(), source: Source.TaskService},
      options,
    );
  }

  /** Publishes what a committed transaction added now, not at the relay's next poll. */
  relaySoon(): void {
    this.relay.relaySoon();
  }

  /** Parked events (they failed `maxAttempts` times), oldest first. */
  listParked(limit = 100, offset = 0): Promise<ParkedOutboxEvent[]> {
    return this.store.listParked(limit, offset);
  }

  /** How many events are parked. */
  countParked(): Promise<number> {
    return this.store.countParked();
  }

  /** When the oldest event still to publish was written; none when all are out. */
  oldestPending(): Promise<Date | undefined> {
    return this.store.oldestPending();
  }

  /**
   * Puts a parked event back in line, due now with a fresh attempt budget;
   * the later events of its tasks follow it once it is published.
   */
  async replay(id: string): Promise<void> {
    if (!(await this.store.replayParked(id))) throw notParked(id);
    this.relay.relaySoon();
  }

  /**
   * Gives up a parked event: it is never published, and the later events
   * of its tasks go without it.
   */
  async discard(id: string): Promise<void> {
    if (!(await this.store.discardParked(id))) throw notParked(id);
    this.relay.relaySoon();
  }
}

function notParked(id: string): TaskServiceError {
  return new TaskServiceError(
    'not-found',
    `No parked outgoing event has the id ${id}.`,
  );
}
