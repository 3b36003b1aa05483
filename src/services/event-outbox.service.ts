import {
  BindingScope,
  Getter,
  inject,
  injectable,
  LifeCycleObserver,
} from '@loopback/core';
import {AnyObject, juggler, Options} from '@loopback/repository';
import {IEvent, IOutgoingConnector} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {EventType, Source} from '../models/enums';
import {TaskDbSourceName} from '../types';

export interface EventOutboxConfig {
  /** How often (ms) the relay looks for events to publish; default 250. */
  pollIntervalMs?: number;
  /** Events handed to the connector per round; default 50. */
  batchSize?: number;
  /** Backoff (ms) after the first failed publish; doubles, capped at `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

interface OutboxRow {
  id: string;
  event: IEvent | string;
  attempts: number;
}

/**
 * The outbox: outgoing events are written in the transaction of the change
 * that caused them, and a relay hands them to the outgoing connector after
 * commit. A crash in between loses nothing (the row waits) and creates
 * nothing twice (the change and its event commit together). Several service
 * instances share the relay work through `FOR UPDATE SKIP LOCKED`.
 */
@injectable({scope: BindingScope.SINGLETON})
export class EventOutbox implements LifeCycleObserver {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;
  private readonly config: Required<EventOutboxConfig>;
  private resolvedConnector?: IOutgoingConnector;
  private lastRelayError?: string;

  constructor(
    @inject(`datasources.${TaskDbSourceName}`)
    private readonly dataSource: juggler.DataSource,
    @inject.getter(TaskServiceBindings.OUTGOING_CONNECTOR)
    private readonly getConnector: Getter<IOutgoingConnector>,
    @inject(TaskServiceBindings.OUTBOX_CONFIG, {optional: true})
    config: EventOutboxConfig = {},
  ) {
    this.config = {
      pollIntervalMs: 250,
      batchSize: 50,
      initialBackoffMs: 500,
      maxBackoffMs: 60_000,
      ...config,
    };
  }

  /**
   * Records an event to publish. Pass the change's `transaction` in
   * `options` so the event commits or rolls back with it.
   */
  async add(event: IEvent, options?: Options): Promise<void> {
    await this.dataSource.execute(
      'INSERT INTO main.outbox_events (key, event) VALUES ($1, $2::json)',
      [event.key, JSON.stringify(event)],
      options,
    );
    if (!options?.transaction) this.relaySoon();
  }

  /** Records an event of the service itself (`source: task-service`). */
  announce(key: EventType, payload: AnyObject, options?: Options) {
    return this.add(
      {key, payload, timestamp: Date.now(), source: Source.TaskService},
      options,
    );
  }

  /** Asks the relay to run now rather than at its next poll (after a commit). */
  relaySoon(): void {
    if (this.stopped) return;
    setImmediate(() => {
      this.relay().catch(err => this.logRelayError(err));
    });
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

  /**
   * Publishes the waiting events until none is left; concurrent calls share
   * one run. Resolves with nothing; failures stay in the rows.
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
   * One round: lock a batch no other instance holds, publish it in order,
   * record the outcome. Events stay in order: the batch ends before an event
   * that is waiting out a backoff, and at the first failure.
   */
  private async relayBatch(): Promise<number> {
    const connector = await this.connector();
    const tx = await this.dataSource.beginTransaction({});
    const options = {transaction: tx};
    try {
      const rows = (await this.dataSource.execute(
        `SELECT id, event, attempts FROM main.outbox_events
          WHERE published_on IS NULL AND available_on <= now()
            AND seq < COALESCE((SELECT min(seq) FROM main.outbox_events
                                 WHERE published_on IS NULL AND available_on > now()),
                               9223372036854775807)
          ORDER BY seq
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [this.config.batchSize],
        options,
      )) as OutboxRow[];
      let handled = 0;
      for (const row of rows) {
        const event =
          typeof row.event === 'string'
            ? (JSON.parse(row.event) as IEvent)
            : row.event;
        // A savepoint keeps a connector that writes in this transaction (the
        // HTTP connector's delivery rows) from aborting the whole batch.
        await this.dataSource.execute('SAVEPOINT publish', [], options);
        try {
          await connector.publish(event, options);
          await this.dataSource.execute(
            'RELEASE SAVEPOINT publish',
            [],
            options,
          );
          await this.dataSource.execute(
            'UPDATE main.outbox_events SET published_on = now(), attempts = attempts + 1 WHERE id = $1',
            [row.id],
            options,
          );
          handled++;
        } catch (err) {
          await this.dataSource.execute(
            'ROLLBACK TO SAVEPOINT publish',
            [],
            options,
          );
          const backoff = Math.min(
            this.config.initialBackoffMs * 2 ** row.attempts,
            this.config.maxBackoffMs,
          );
          await this.dataSource.execute(
            `UPDATE main.outbox_events
                SET attempts = attempts + 1, last_error = $2,
                    available_on = now() + ($3 || ' milliseconds')::interval
              WHERE id = $1`,
            [row.id, (err as Error).message, String(backoff)],
            options,
          );
          console.warn(
            `Outgoing event ${event.key} (${row.id}) not published, retry in ${backoff} ms: ${(err as Error).message}`,
          );
          break;
        }
      }
      await tx.commit();
      // A short round means nothing more is due now.
      return handled === rows.length ? rows.length : 0;
    } catch (err) {
      await tx.rollback();
      throw err;
    }
  }

  /**
   * Logs a failed round once per distinct error: a relay that cannot reach
   * its connector (say none is bound) would otherwise log every poll. The
   * events wait in the table meanwhile.
   */
  private logRelayError(err: unknown) {
    const message = (err as Error).message;
    if (message === this.lastRelayError) return;
    this.lastRelayError = message;
    console.error(
      `Outbox relay failed (events wait until it works): ${message}`,
    );
  }
}
