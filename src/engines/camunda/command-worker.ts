import {Client} from 'camunda-external-task-client-js';
import {BindingScope, inject, injectable} from '@loopback/core';
import {hostname} from 'os';
import {randomBytes} from 'crypto';
import {
  CommandSubscription,
  ExternalTaskLike,
  ExternalTaskServiceLike,
  ICommandRunner,
} from '../../interfaces';
import {ExportedWorkflowServiceBindingConfig} from '../../keys';
import {WorkflowServiceConfig} from '../../types';
import {exponentialBackoff} from '../../utils';

/** The longest pause between two fetch-and-lock calls after failures. */
const MAX_POLL_PAUSE_MS = 5000;

/**
 * The command runner on Camunda: each command's topic is subscribed as an
 * external-task topic (only this deployment's tenant, when it owns one);
 * each external task is held with a short lock, renewed while its command
 * runs; a failure is reported to the engine with its message and a bounded
 * number of retries with exponential backoff, and never crashes the process.
 */
@injectable({scope: BindingScope.SINGLETON})
export class CamundaCommandWorker implements ICommandRunner {
  private client?: Client;
  private readonly inFlight = new Set<Promise<void>>();
  /** The topics being worked on (empty when stopped). */
  readonly topics: string[] = [];

  constructor(
    @inject(ExportedWorkflowServiceBindingConfig, {optional: true})
    private readonly config: Partial<WorkflowServiceConfig> = {},
  ) {}

  async subscribe(subscriptions: CommandSubscription[]): Promise<void> {
    if (this.client ?? !subscriptions.length) return;
    const baseUrl = this.config.workflowEngineBaseUrl;
    if (!baseUrl) {
      throw new Error(
        'Commands are bound but no workflow engine is configured: bind ExportedWorkflowServiceBindingConfig.',
      );
    }
    const pauseMs = this.config.workerPollIntervalMs ?? 20;
    const maxTasks = this.config.workerMaxTasks ?? 32;
    const client = new Client({
      baseUrl: baseUrl.replace(/\/+$/, ''),
      workerId: `task-service-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      autoPoll: false,
      interval: pauseMs,
      asyncResponseTimeout: this.config.workerAsyncResponseTimeoutMs ?? 10000,
      lockDuration: this.lockMs(),
      // Fetches what free slots there are, at most maxTasks running at once.
      maxTasks,
      maxParallelExecutions: maxTasks,
    });
    // One error listener per engine call in flight (see engineCall).
    client.setMaxListeners(0);
    // A fetch long-polls, so the pause between polls stays short while the
    // engine answers; it doubles after each failed poll (up to 5 s), so an
    // engine that is down is not asked (and logged about) in a tight loop.
    client.on('poll:success', () => {
      client.options.interval = pauseMs;
    });
    client.on('poll:error', (err: Error) => {
      client.options.interval = Math.min(
        Math.max(client.options.interval * 2, 100),
        MAX_POLL_PAUSE_MS,
      );
      console.warn(
        `Camunda worker: fetch-and-lock failed (next try in ${client.options.interval} ms): ${err.message}`,
      );
    });
    const tenantId = this.config.engineTenantId;
    for (const {topic, run} of subscriptions) {
      client.subscribe(
        topic,
        // Only this deployment's external tasks, when it owns a tenant.
        tenantId ? {tenantIdIn: [tenantId]} : {},
        args =>
          this.track(this.run(client, topic, run, args.task, args.taskService)),
      );
      this.topics.push(topic);
    }
    client.start();
    this.client = client;
  }

  /** Stops polling and waits for the commands that are running. */
  async unsubscribe(): Promise<void> {
    this.client?.stop();
    this.client = undefined;
    this.topics.length = 0;
    await Promise.allSettled([...this.inFlight]);
  }

  private lockMs(): number {
    return this.config.commandLockMs ?? 10000;
  }

  /**
   * The task service a command gets: the lock on its external task is
   * renewed at half its length while the command runs (the lock stays short,
   * so a crashed instance's jobs are soon free), renewal stops before the
   * command completes or fails the task (a renewal racing a completion makes
   * the engine refuse the completion), and an engine refusal, which the
   * client library only emits as an event, is thrown to the caller.
   */
  private holdLock(
    client: Client,
    task: ExternalTaskLike,
    inner: ExternalTaskServiceLike,
  ): {service: ExternalTaskServiceLike; release(): Promise<void>} {
    const lockMs = this.lockMs();
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = engineCall(client, 'extendLock', task, () =>
        inner.extendLock(task, lockMs),
      ).catch(err =>
        console.warn(
          `Could not extend the lock on external task ${task.id}: ${(err as Error).message}`,
        ),
      );
    }, lockMs / 2);
    const release = async () => {
      clearInterval(timer);
      await renewing;
    };
    const service: ExternalTaskServiceLike = {
      complete: async (t, ...variables) => {
        await release();
        return engineCall(client, 'complete', t, () =>
          inner.complete(t, ...variables),
        );
      },
      handleFailure: async (t, options) => {
        await release();
        return engineCall(client, 'handleFailure', t, () =>
          inner.handleFailure(t, options),
        );
      },
      extendLock: (t, newDuration) =>
        engineCall(client, 'extendLock', t, () =>
          inner.extendLock(t, newDuration),
        ),
    };
    return {service, release};
  }

  private track(run: Promise<void>): Promise<void> {
    this.inFlight.add(run);
    return run.finally(() => this.inFlight.delete(run));
  }

  private async run(
    client: Client,
    topic: string,
    execute: CommandSubscription['run'],
    task: ExternalTaskLike,
    engineTaskService: ExternalTaskServiceLike,
  ): Promise<void> {
    const {service: taskService, release} = this.holdLock(
      client,
      task,
      engineTaskService,
    );
    try {
      await execute({task, taskService});
    } catch (err) {
      await this.reportFailure(topic, task, taskService, err as Error);
    } finally {
      await release();
    }
  }

  private async reportFailure(
    topic: string,
    task: ExternalTaskLike,
    taskService: ExternalTaskServiceLike,
    err: Error,
  ) {
    const maxRetries = this.config.commandRetries ?? 3;
    const retriesLeft =
      task.retries == null ? maxRetries : Math.max(task.retries - 1, 0);
    const backoff = exponentialBackoff(
      maxRetries - retriesLeft,
      this.config.commandRetryBackoffMs ?? 1000,
    );
    console.warn(
      `Command ${topic} failed for external task ${task.id} (${retriesLeft} retries left): ${err.message}`,
    );
    try {
      await taskService.handleFailure(task, {
        // The engine keeps at most 666 characters of the message.
        errorMessage: (err.message || String(err)).slice(0, 666),
        errorDetails: err.stack,
        retries: retriesLeft,
        retryTimeout: retriesLeft > 0 ? backoff : 0,
      });
    } catch (reportErr) {
      console.error(
        `Command ${topic}: could not report the failure of external task ${task.id} to the engine: ${(reportErr as Error).message}`,
      );
    }
  }
}

type EngineCall = 'complete' | 'handleFailure' | 'extendLock';

/**
 * Runs one call of the client library's task service and throws what the
 * engine answered: the library catches the error and only emits it as
 * `<call>:error` with the task.
 */
async function engineCall(
  client: Client,
  call: EngineCall,
  task: ExternalTaskLike,
  work: () => Promise<void>,
): Promise<void> {
  let failure: Error | undefined;
  const listener = (failed: ExternalTaskLike, err: Error) => {
    if (failed?.id === task.id) failure = err;
  };
  client.on(`${call}:error`, listener);
  try {
    await work();
  } finally {
    client.off(`${call}:error`, listener);
  }
  if (failure) throw failure;
}
