import {BindingScope, Getter, inject, injectable} from '@loopback/core';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client';
import {OutboxStore, TaskSqlBindings} from '../sql';
import {TaskObservabilityBindings} from './keys';
import {fallbackLogger} from './logger';
import {TaskLogger, TaskObservabilityConfig} from './types';

/** Seconds: from a fast local call to a slow remote one. */
const LATENCY_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** What a webhook delivery attempt came to. */
export type DeliveryOutcome = 'delivered' | 'failed' | 'dead';

/**
 * The service's metrics, in a prom-client registry: counted where things
 * happen (the event processor, the command executor, the relay, the
 * delivery worker, the Kafka connector, the HTTP middleware); the outbox
 * gauges are read from the outbox store when `/metrics` is scraped.
 */
@injectable({scope: BindingScope.SINGLETON})
export class TaskMetrics {
  readonly eventsReceived: Counter<'source' | 'key'>;
  readonly eventsFailed: Counter<'source'>;
  readonly tasksCreated: Counter;
  readonly tasksCompleted: Counter;
  readonly commandsRun: Counter<'topic'>;
  readonly commandsFailed: Counter<'topic'>;
  readonly commandDuration: Histogram<'topic'>;
  readonly outboxPending: Gauge;
  readonly outboxOldestAge: Gauge;
  readonly outboxParked: Gauge;
  readonly outboxPublishFailures: Counter;
  readonly webhookDeliveries: Counter<'outcome'>;
  readonly webhookDeliveryDuration: Histogram<'outcome'>;
  readonly kafkaDeadLetters: Counter<'topic'>;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  private lastOutboxError?: string;
  private outboxRead?: Promise<void>;

  constructor(
    @inject(TaskObservabilityBindings.METRICS_REGISTRY)
    readonly registry: Registry,
    @inject.getter(TaskSqlBindings.OUTBOX_STORE)
    private readonly getOutbox: Getter<OutboxStore>,
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
    @inject(TaskObservabilityBindings.CONFIG, {optional: true})
    config: TaskObservabilityConfig = {},
  ) {
    const registers = [registry];
    if (config.metrics?.processMetrics !== false) {
      collectDefaultMetrics({register: registry});
    }
    this.eventsReceived = new Counter({
      name: 'task_service_events_received_total',
      help: 'Incoming events handed to the event processor, by source and key.',
      labelNames: ['source', 'key'],
      registers,
    });
    this.eventsFailed = new Counter({
      name: 'task_service_events_failed_total',
      help: 'Incoming events whose handling failed (the connector retries or dead-letters them), by source.',
      labelNames: ['source'],
      registers,
    });
    this.tasksCreated = new Counter({
      name: 'task_service_tasks_created_total',
      help: 'Tasks created by create-tasks (committed).',
      registers,
    });
    this.tasksCompleted = new Counter({
      name: 'task_service_tasks_completed_total',
      help: 'Tasks completed by end-task (committed).',
      registers,
    });
    this.commandsRun = new Counter({
      name: 'task_service_commands_run_total',
      help: 'Command executions (external tasks worked), by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.commandsFailed = new Counter({
      name: 'task_service_commands_failed_total',
      help: 'Command executions that failed and were reported to the engine, by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.commandDuration = new Histogram({
      name: 'task_service_command_duration_seconds',
      help: 'How long a command ran, by topic.',
      labelNames: ['topic'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    // A scrape collects gauges in parallel: both share one read.
    const collectOutbox = () => {
      this.outboxRead ??= this.collectOutbox().finally(() => {
        this.outboxRead = undefined;
      });
      return this.outboxRead;
    };
    this.outboxPending = new Gauge({
      name: 'task_service_outbox_pending_events',
      help: 'Outgoing events written but not yet published.',
      registers,
      collect: collectOutbox,
    });
    this.outboxOldestAge = new Gauge({
      name: 'task_service_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest unpublished outgoing event (0 when none).',
      registers,
      collect: collectOutbox,
    });
    this.outboxParked = new Gauge({
      name: 'task_service_outbox_parked_events',
      help: 'Outgoing events parked after their attempts ran out (replay or discard them).',
      registers,
      collect: collectOutbox,
    });
    this.outboxPublishFailures = new Counter({
      name: 'task_service_outbox_publish_failures_total',
      help: 'Publishes of an outgoing event that failed and were scheduled for a retry.',
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: 'task_service_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered, failed (to be retried), dead (given up).',
      labelNames: ['outcome'],
      registers,
    });
    this.webhookDeliveryDuration = new Histogram({
      name: 'task_service_webhook_delivery_duration_seconds',
      help: 'Duration of webhook delivery attempts (the POST), by outcome.',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.kafkaDeadLetters = new Counter({
      name: 'task_service_kafka_dead_letters_total',
      help: 'Kafka messages moved to the dead-letter topic after their retries, by source topic.',
      labelNames: ['topic'],
      registers,
    });
    this.httpRequestDuration = new Histogram({
      name: 'task_service_http_request_duration_seconds',
      help: 'HTTP request duration by method, route (the path template) and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /** The metrics in Prometheus' text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** One command execution and how it ended. */
  commandRan(topic: string, seconds: number, failed: boolean): void {
    this.commandsRun.inc({topic});
    if (failed) this.commandsFailed.inc({topic});
    this.commandDuration.observe({topic}, seconds);
  }

  /** One webhook delivery attempt. */
  deliveryAttempted(outcome: DeliveryOutcome, seconds: number): void {
    this.webhookDeliveries.inc({outcome});
    this.webhookDeliveryDuration.observe({outcome}, seconds);
  }

  /**
   * Reads the outbox's backlog for a scrape. A database that does not
   * answer shows both gauges (logged once per distinct
   * failure) as NaN in this scrape; `/ready` reports the failure.
   */
  private async collectOutbox(): Promise<void> {
    try {
      const stats = await (await this.getOutbox()).pendingStats();
      this.outboxPending.set(stats.count);
      this.outboxOldestAge.set((stats.oldestAgeMs ?? 0) / 1000);
      this.outboxParked.set(stats.parked);
      this.lastOutboxError = undefined;
    } catch (err) {
      // Unknown, not zero: an alert on the backlog must not clear.
      this.outboxPending.set(NaN);
      this.outboxOldestAge.set(NaN);
      this.outboxParked.set(NaN);
      const {message} = err as Error;
      if (message === this.lastOutboxError) return;
      this.lastOutboxError = message;
      this.logger.warn({err}, 'Metrics: could not read the outbox backlog');
    }
  }
}
