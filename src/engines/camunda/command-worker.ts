import {BindingScope, inject, injectable} from '@loopback/core';
import {Client} from 'camunda-external-task-client-js';
import {EventEmitter} from 'events';
import {hostname} from 'os';
import {randomBytes} from 'crypto';
import {
  CommandSubscription,
  ExternalTaskLike,
  ExternalTaskServiceLike,
  ICommandRunner,
} from '../../interfaces';
import {ExportedWorkflowServiceBindingConfig} from '../../keys';
import {WorkflowServiceConfig, workflowEngineUrl} from '../../types';
import {exponentialBackoff} from '../../utils';
import {TaskObservabilityBindings} from '../../observability/keys';
import {fallbackLogger} from '../../observability/logger';
import type {TaskLogger} from '../../observability/types';

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
  private lastPollError?: string;

  constructor(
    @inject(ExportedWorkflowServiceBindingConfig, {optional: true})
    private readonly config: Partial<WorkflowServiceConfig> = {},
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
  ) {}

  async subscribe(subscriptions: CommandSubscription[]): Promise<void> {
    if (this.client ?? !subscriptions.length) return;
    const pauseMs = this.config.workerPollIntervalMs ?? 20;
    const maxTasks = this.config.workerMaxTasks ?? 32;
    const client = new Client({
      baseUrl: workflowEngineUrl(this.config),
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
    emitterOf(client).setMaxListeners(0);
    // A fetch long-polls, so the pause between polls stays short while the
    // engine answers; it doubles after each failed poll (up to 5 s), so an
    // engine that is down is not asked in a tight loop. A failure is logged
    // once per distinct error, not on every poll while the engine is away.
    const polling = pollingOf(client);
    client.on('poll:error', (err: Error) => {
      polling.interval = Math.min(
        Math.max(polling.interval * 2, 100),
        MAX_POLL_PAUSE_MS,
      );
      if (err.message === this.lastPollError) return;
      this.lastPollError = err.message;
      this.logger.warn({err}, 'Camunda worker: fetch-and-lock failed');
    });
    client.on('poll:success', () => {
      polling.interval = pauseMs;
      if (this.lastPollError === undefined) return;
      this.lastPollError = undefined;
      this.logger.info('Camunda worker: fetch-and-lock works again');
    });
    const tenantId = this.config.engineTenantId;
    for (const {topic, run} of subscriptions) {
      client.subscribe(
        topic,
        // Only this deployment's external tasks, when it owns a tenant.
        tenantId ? {tenantIdIn: [tenantId]} : {},
        // The library counts a task as running until the promise its
        // handler returns settles (its types say void): returning the run
        // keeps at most maxTasks running, where a handler that returned at
        // once let every poll fetch maxTasks more. The run is tracked so
        // that stopping waits for it, and it reports its own failures.
        // eslint-disable-next-line @typescript-eslint/no-misused-promises
        args =>
          this.track(
            this.run(client, topic, run, args.task, args.taskService),
          ).catch(err => this.logger.error({err, topic}, 'Command run failed')),
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
        this.logger.warn(
          {err, externalTaskId: task.id},
          'Could not extend the lock on an external task',
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
    this.logger.warn(
      {
        err,
        topic,
        externalTaskId: task.id,
        workflowInstanceId: task.processInstanceId,
        retriesLeft,
      },
      retriesLeft > 0
        ? 'Command failed; the engine retries it'
        : 'Command failed; no retries left, the engine raises an incident',
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
      this.logger.error(
        {err: reportErr, topic, externalTaskId: task.id},
        'Could not report a command failure to the engine',
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
  const events = emitterOf(client);
  events.on(`${call}:error`, listener);
  try {
    await work();
  } finally {
    events.off(`${call}:error`, listener);
  }
  if (failure) throw failure;
}

/**
 * The client is an EventEmitter, which its published types leave out; its
 * task-service errors are emitted with the task first.
 */
function emitterOf(client: Client): EventEmitter {
  return client as unknown as EventEmitter;
}

/**
 * The client's options, which it reads again before each poll (`interval`
 * is the pause before the next one); its published types leave them out.
 */
function pollingOf(client: Client): {interval: number} {
  return (client as unknown as {options: {interval: number}}).options;
}
