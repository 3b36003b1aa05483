import {BindingScope, Getter, inject, injectable} from '@loopback/core';
import {
  IIncomingConnector,
  IOutgoingConnector,
  IWorkflowManager,
} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {
  OutboxStore,
  sqlSessionOf,
  TaskDataSource,
  TaskSqlBindings,
} from '../sql';
import {TaskObservabilityBindings} from './keys';
import {scrub} from './logger';
import {ServiceState} from './service-state';
import {
  isHealthCheckable,
  ReadinessCheckResult,
  ReadinessReport,
  TaskObservabilityConfig,
} from './types';

const DEFAULT_OUTBOX_MAX_AGE_MS = 300_000;
const DEFAULT_CHECK_TIMEOUT_MS = 3000;

interface Check {
  name: string;
  run(): Promise<void>;
}

/**
 * What `GET /ready` reports: the service is started and not shutting down,
 * its database answers, the workflow engine answers (an engine of your own
 * without `ping()` counts as ready), every connector that can be checked
 * (Kafka: the broker) answers, and the oldest unpublished outgoing event is
 * younger than the bound. The checks run in parallel, each with a timeout.
 */
@injectable({scope: BindingScope.SINGLETON})
export class ReadinessService {
  private readonly outboxMaxAgeMs: number;
  private readonly timeoutMs: number;

  constructor(
    @inject(TaskObservabilityBindings.SERVICE_STATE)
    private readonly state: ServiceState,
    @inject.getter(TaskSqlBindings.TASK_DATASOURCE)
    private readonly getTaskDb: Getter<TaskDataSource>,
    @inject.getter(TaskSqlBindings.WORKFLOW_DATASOURCE, {optional: true})
    private readonly getWorkflowDb: Getter<TaskDataSource | undefined>,
    @inject.getter(TaskServiceBindings.WORKFLOW_MANAGER)
    private readonly getEngine: Getter<IWorkflowManager>,
    @inject.getter(TaskServiceBindings.INCOMING_CONNECTOR, {optional: true})
    private readonly getIncoming: Getter<IIncomingConnector | undefined>,
    @inject.getter(TaskServiceBindings.OUTGOING_CONNECTOR, {optional: true})
    private readonly getOutgoing: Getter<IOutgoingConnector | undefined>,
    @inject.getter(TaskSqlBindings.OUTBOX_STORE)
    private readonly getOutbox: Getter<OutboxStore>,
    @inject(TaskObservabilityBindings.CONFIG, {optional: true})
    config: TaskObservabilityConfig = {},
  ) {
    this.outboxMaxAgeMs =
      config.readiness?.outboxMaxAgeMs ?? DEFAULT_OUTBOX_MAX_AGE_MS;
    this.timeoutMs =
      config.readiness?.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  }

  async check(): Promise<ReadinessReport> {
    const checks = await this.checks();
    const results = await Promise.all(checks.map(c => this.run(c)));
    const failing = results.filter(r => r.status === 'down').map(r => r.name);
    return {status: failing.length ? 'DOWN' : 'UP', failing, checks: results};
  }

  private async checks(): Promise<Check[]> {
    const checks: Check[] = [
      {
        name: 'lifecycle',
        run: async () => {
          const reason = this.state.notServing();
          if (reason) throw new Error(reason);
        },
      },
    ];
    const taskDb = await this.getTaskDb();
    checks.push({name: 'database', run: () => ping(taskDb)});
    const workflowDb = await this.getWorkflowDb();
    if (workflowDb && workflowDb !== taskDb) {
      checks.push({name: 'workflow-database', run: () => ping(workflowDb)});
    }
    checks.push({
      name: 'engine',
      run: async () => {
        const engine = await this.getEngine();
        await engine.ping?.();
      },
    });
    // One service may be both connectors (Kafka in and out): checked once.
    const connectors = new Set<unknown>([
      await this.getIncoming(),
      await this.getOutgoing(),
    ]);
    for (const connector of connectors) {
      if (isHealthCheckable(connector)) {
        checks.push({
          name: connector.healthCheckName,
          run: () => connector.checkHealth(),
        });
      }
    }
    checks.push({name: 'outbox', run: () => this.checkOutbox()});
    return checks;
  }

  private async checkOutbox(): Promise<void> {
    const stats = await (await this.getOutbox()).pendingStats();
    const age = stats.oldestAgeMs ?? 0;
    if (age > this.outboxMaxAgeMs) {
      throw new Error(
        `the oldest of ${stats.count} unpublished events is ${Math.round(age / 1000)} s old (bound ${Math.round(this.outboxMaxAgeMs / 1000)} s)`,
      );
    }
  }

  private async run(check: Check): Promise<ReadinessCheckResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      await Promise.race([check.run(), timeout]);
      return {name: check.name, status: 'up', durationMs: since(started)};
    } catch (err) {
      return {
        name: check.name,
        status: 'down',
        durationMs: since(started),
        error: scrub((err as Error).message ?? String(err)),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}

async function ping(dataSource: TaskDataSource): Promise<void> {
  // A connection that drops mid-check fails the check, not the process.
  await sqlSessionOf(dataSource).execute('SELECT 1');
}

function since(started: number): number {
  return Math.round(performance.now() - started);
}
