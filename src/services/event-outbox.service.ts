import {BindingScope, inject, injectable, service} from '@loopback/core';
import {AnyObject, Options} from '@loopback/repository';
import {IEvent} from '../interfaces';
import {EventType, Source} from '../models';
import {OutboxStore, TaskSqlBindings} from '../sql';
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
}
