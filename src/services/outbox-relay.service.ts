import {
  BindingScope,
  Getter,
  inject,
  injectable,
  LifeCycleObserver,
} from '@loopback/core';
import {IOutgoingConnector} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {OutboxStore, TaskSqlBindings, TransactionRunner} from '../sql';
import {EventOutboxConfig} from '../types';
import {exponentialBackoff} from '../utils';
import {outgoingEventFields} from '../observability/event-fields';
import {TaskObservabilityBindings} from '../observability/keys';
import {fallbackLogger} from '../observability/logger';
import type {TaskMetrics} from '../observability/metrics';
import type {TaskLogger} from '../observability/types';

/**
 * Hands the outbox's events to the outgoing connector after they commit,
 * in the order they were written, retrying a failing one with backoff (it
 * holds back the ones after it). Several service instances share the work:
 * each round locks the events it takes. Polls while the app runs; a commit
 * that added events asks for a round at once (`relaySoon`).
 */
@injectable({scope: BindingScope.SINGLETON})
export class OutboxRelay implements LifeCycleObserver {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;
  private readonly config: Required<EventOutboxConfig>;
  private resolvedConnector?: IOutgoingConnector;
  private lastRelayError?: string;

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
      batchSize: 50,
      initialBackoffMs: 500,
      maxBackoffMs: 60_000,
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
    let handled = this.config.batchSize;
    while (handled === this.config.batchSize && !this.stopped) {
      handled = await this.relayBatch();
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
   * One round in one transaction: claim the due events, publish them in
   * order, record each outcome; stop at the first failure so order holds.
   * Returns how many were published, 0 when the round ended early.
   */
  private async relayBatch(): Promise<number> {
    const connector = await this.connector();
    return this.transactions.run(async options => {
      const due = await this.store.claimDue(this.config.batchSize, options);
      for (const {id, event, attempts} of due) {
        try {
          // A connector that writes in this transaction (the HTTP
          // connector's delivery rows) must not abort the whole round.
          await this.transactions.savepoint(options, () =>
            connector.publish(event, options),
          );
        } catch (err) {
          const retryInMs = exponentialBackoff(
            attempts + 1,
            this.config.initialBackoffMs,
            this.config.maxBackoffMs,
          );
          const message = (err as Error).message;
          await this.store.markFailed(id, message, retryInMs, options);
          this.metrics?.outboxPublishFailures.inc();
          this.logger.warn(
            {err, outboxId: id, retryInMs, ...outgoingEventFields(event)},
            'Outgoing event not published; it is retried',
          );
          return 0;
        }
        await this.store.markPublished(id, options);
        this.logger.debug(
          {outboxId: id, ...outgoingEventFields(event)},
          'Outgoing event published',
        );
      }
      return due.length;
    });
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
