import {
  BindingScope,
  Getter,
  inject,
  injectable,
  LifeCycleObserver,
} from '@loopback/core';
import {Options} from '@loopback/repository';
import {IOutgoingConnector} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {
  OutboxEntry,
  OutboxStore,
  singleKeyRuns,
  TaskSqlBindings,
  TransactionLostError,
  TransactionRunner,
} from '../sql';
import {EventOutboxConfig} from '../types';
import {chunksOf, exponentialBackoff, orderingKeysOf} from '../utils';
import {outgoingEventFields} from '../observability/event-fields';
import {TaskObservabilityBindings} from '../observability/keys';
import {fallbackLogger} from '../observability/logger';
import type {TaskMetrics} from '../observability/metrics';
import type {TaskLogger} from '../observability/types';

/**
 * Hands the outbox's events to the outgoing connector after they commit.
 * Per task, in the order they were written: an event waits while an earlier
 * event of one of its tasks is unpublished; events of other tasks go on. A
 * failing event is retried with backoff and, after `maxAttempts` failures
 * while the connector publishes others, parked (it then waits for a replay
 * or a discard). Several service instances share the work: each round locks
 * the events it takes. Polls while the app runs; a commit that added events
 * asks for a round at once (`relaySoon`).
 */
@injectable({scope: BindingScope.SINGLETON})
export class OutboxRelay implements LifeCycleObserver {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;
  private readonly config: Required<EventOutboxConfig>;
  private resolvedConnector?: IOutgoingConnector;
  private lastRelayError?: string;
  /** When this relay last handed an event to the connector (ms). */
  private lastPublishedAt = 0;

  constructor(
    @inject(TaskSqlBindings.OUTBOX_STORE)
    private readonly store: OutboxStore,
    @inject(TaskSqlBindings.TASK_TRANSACTIONS)
    private readonly transactions: TransactionRunner,
    @inject.getter(TaskServiceBindings.OUTGOING_CONNECTOR)
    private readonly getConnector: Getter<IOutgoingConnector>,
    @inject(TaskServiceBindings.OUTBOX_CONFIG, {optional: true})
    config: EventOutboxConfig = {},
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
    @inject(TaskObservabilityBindings.METRICS, {optional: true})
    private readonly metrics?: TaskMetrics,
  ) {
    this.config = {
      pollIntervalMs: 250,
      batchSize: 10_000,
      pageSize: 2000,
      maxEventsPerTask: 500,
      initialBackoffMs: 500,
      maxBackoffMs: 60_000,
      maxAttempts: 10,
      ...config,
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Asks for a round now rather than at the next poll (after a commit). */
  relaySoon(): void {
    if (this.stopped) return;
    setImmediate(() => {
      this.relay().catch(err => this.logRelayError(err));
    });
  }

  /**
   * Publishes the waiting events until none is left; concurrent calls share
   * one run. Resolves with nothing; failures stay in the outbox.
   */
  relay(): Promise<void> {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule() {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.relay()
        .catch(err => this.logRelayError(err))
        .finally(() => this.schedule());
    }, this.config.pollIntervalMs);
  }

  private async drain(): Promise<void> {
    // A round takes a task's events up to the first that cannot go (or
    // `maxEventsPerTask`), so its next ones come in the round after: go on
    // while rounds publish. (A round whose events all failed ends it: they
    // wait out their backoff.)
    let published = 1;
    while (published > 0 && !this.stopped) {
      published = await this.relayBatch();
    }
    this.lastRelayError = undefined;
  }

  /**
   * The outgoing connector, resolved once: a connector bound in transient
   * scope (as the original's README binds Kafka) must not become a new
   * client, with a new producer, on every round.
   */
  private async connector(): Promise<IOutgoingConnector> {
    this.resolvedConnector ??= await this.getConnector();
    return this.resolvedConnector;
  }

  /**
   * One round in one transaction: claim the due events (the first still to
   * publish of each task), take the events of that task alone queued right
   * behind each (in turns, `batchSize` in all), publish them in order,
   * record each outcome. A failure holds back the failing event and the
   * later events of its tasks. Returns how many events the round published.
   */
  private async relayBatch(): Promise<number> {
    const connector = await this.connector();
    return this.transactions.run(async options => {
      const {batchSize, maxEventsPerTask} = this.config;
      const claimed = await this.store.claimDue(batchSize, options);
      if (!claimed.length) return 0;
      const followers = this.store.claimFollowers
        ? await this.store.claimFollowers(
            singleKeyRuns(claimed, maxEventsPerTask - 1),
            batchSize - claimed.length,
            options,
          )
        : [];
      if (connector.publishBatch) {
        return this.publishPages(connector, claimed, followers, options);
      }
      const due = claimed.concat(await this.read(followers, options));
      return this.publishEach(connector, due, options);
    });
  }

  /** The followers' events, in order. */
  private async read(ids: string[], options: Options): Promise<OutboxEntry[]> {
    if (!ids.length || !this.store.readFollowers) return [];
    return this.store.readFollowers(ids, options);
  }

  /**
   * The round in pages of `pageSize` events, one `publishBatch` each, in
   * order; the next page's events are read while one is published. The
   * pages that went out are marked published together, in one statement.
   * A page whose call failed goes one by one and ends the round: a task
   * whose event failed sends nothing more in it, and the pages behind it
   * wait for the next round. Returns how many events went out.
   */
  private async publishPages(
    connector: IOutgoingConnector,
    claimed: OutboxEntry[],
    followers: string[],
    options: Options,
  ): Promise<number> {
    const {pageSize} = this.config;
    // The first page: the claimed events and the followers that fit beside.
    const first = Math.max(0, pageSize - claimed.length);
    const pages = chunksOf(followers.slice(first), pageSize);
    let page = claimed.concat(
      await this.read(followers.slice(0, first), options),
    );
    const published: string[] = [];
    let alone = 0;
    while (page.length) {
      const next = this.read(pages.shift() ?? [], options);
      // Awaited below, or dropped when the round ends first.
      next.catch(() => undefined);
      if (page.length === 1) {
        // Alone: a failed batch of one would be tried twice.
        const out = await this.publishEach(connector, page, options);
        alone += out;
        if (!out) {
          await next.catch(() => undefined);
          break;
        }
      } else if (await this.publishAll(connector, page, options)) {
        for (const entry of page) published.push(entry.id);
      } else {
        // The read runs on the round's connection: let it finish first.
        await next.catch(() => undefined);
        alone += await this.publishEach(connector, page, options);
        break;
      }
      page = await next;
    }
    if (published.length) await this.markAllPublished(published, options);
    return published.length + alone;
  }

  /**
   * One by one, in order: a task whose event failed sends nothing more.
   * Returns how many went out.
   */
  private async publishEach(
    connector: IOutgoingConnector,
    due: OutboxEntry[],
    options: Options,
  ): Promise<number> {
    let published = 0;
    const held = new Set<string>();
    for (const entry of due) {
      const keys = orderingKeysOf(entry.event);
      if (keys.some(key => held.has(key))) continue;
      if (await this.publish(connector, entry, options)) published++;
      else for (const key of keys) held.add(key);
    }
    return published;
  }

  /**
   * Hands a page of events to a connector that takes a batch, in one call.
   * False when the call failed: the page then goes one by one, so only the
   * failing event is held back (the others may go out twice, as after any
   * failure between a publish and its record).
   */
  private async publishAll(
    connector: IOutgoingConnector,
    due: OutboxEntry[],
    options: Options,
  ): Promise<boolean> {
    const events = due.map(entry => entry.event);
    try {
      await this.transactions.savepoint(options, () =>
        connector.publishBatch!(events, options),
      );
    } catch (err) {
      // The round's transaction is gone (a deadlock victim on MySQL): its
      // claims went with it, so the round ends here and the next one retries.
      if (err instanceof TransactionLostError) throw err;
      this.logger.warn(
        {err, events: due.length},
        'Outgoing events not published as a batch; each is tried alone',
      );
      return false;
    }
    this.lastPublishedAt = Date.now();
    this.logger.debug({events: due.length}, 'Outgoing events published');
    return true;
  }

  private async markAllPublished(
    ids: string[],
    options: Options,
  ): Promise<void> {
    if (this.store.markPublishedAll) {
      await this.store.markPublishedAll(ids, options);
    } else {
      for (const id of ids) await this.store.markPublished(id, options);
    }
  }

  /** Publishes one event and records the outcome; true when it went out. */
  private async publish(
    connector: IOutgoingConnector,
    {id, event, attempts, lastAttemptOn}: OutboxEntry,
    options: Options,
  ): Promise<boolean> {
    const attemptedOn = new Date();
    try {
      // A connector that writes in this transaction (the HTTP connector's
      // delivery rows) must not abort the whole round.
      await this.transactions.savepoint(options, () =>
        connector.publish(event, options),
      );
    } catch (err) {
      // The round's transaction is gone (a deadlock victim on MySQL): its
      // claims went with it, so the round ends here and the next one retries.
      if (err instanceof TransactionLostError) throw err;
      const attempt = attempts + 1;
      // Parked only when the connector works for other events: an outage
      // of the connector fails every event, and none of them is to blame.
      const park =
        attempt >= this.config.maxAttempts &&
        this.lastPublishedAt > (lastAttemptOn?.getTime() ?? 0);
      const retryInMs = exponentialBackoff(
        attempt,
        this.config.initialBackoffMs,
        this.config.maxBackoffMs,
      );
      const message = (err as Error).message;
      await this.store.markFailed(
        id,
        {error: message, retryInMs, park, attemptedOn},
        options,
      );
      this.metrics?.outboxPublishFailures.inc();
      const fields = {
        err,
        outboxId: id,
        attempt,
        ...outgoingEventFields(event),
      };
      if (park) {
        this.logger.error(
          fields,
          'Outgoing event parked: later events of its tasks wait until it is replayed or discarded',
        );
      } else {
        this.logger.warn(
          {...fields, retryInMs},
          'Outgoing event not published; it is retried',
        );
      }
      return false;
    }
    await this.store.markPublished(id, options);
    this.lastPublishedAt = Date.now();
    this.logger.debug(
      {outboxId: id, ...outgoingEventFields(event)},
      'Outgoing event published',
    );
    return true;
  }

  /**
   * Logs a failed round once per distinct error: a relay that cannot reach
   * its connector (say none is bound) would otherwise log every poll. The
   * events wait in the outbox meanwhile.
   */
  private logRelayError(err: unknown) {
    const message = (err as Error).message;
    if (message === this.lastRelayError) return;
    this.lastRelayError = message;
    this.logger.error(
      {err},
      'Outbox relay failed (events wait until it works)',
    );
  }
}
