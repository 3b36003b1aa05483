import {AnyObject} from '@loopback/repository';
import type {Task, TaskService} from 'camunda-external-task-client-js';

/**
 * The external task and the service handed to a command, as
 * `camunda-external-task-client-js` gives them to a topic handler.
 */
export interface ExternalTaskLike {
  id?: string;
  topicName?: string;
  processInstanceId?: string;
  /** The definition of the instance, when the runner knows it. */
  processDefinitionId?: string;
  /** Retries left, as the engine counts them; null before the first failure. */
  retries?: number | null;
  variables: {
    get(name: string): unknown;
    getAll(): AnyObject;
  };
}

export interface ExternalTaskServiceLike {
  complete(
    task: ExternalTaskLike,
    variables?: unknown,
    localVariables?: unknown,
  ): Promise<void>;
  handleFailure(
    task: ExternalTaskLike,
    options: {
      errorMessage?: string;
      errorDetails?: string;
      retries?: number;
      retryTimeout?: number;
    },
  ): Promise<void>;
  /** Renews the lock on the external task for `newDuration` ms from now. */
  extendLock(task: ExternalTaskLike, newDuration: number): Promise<void>;
}

export interface CommandParameters {
  task: ExternalTaskLike;
  taskService: ExternalTaskServiceLike;
}

/**
 * The parameters exactly as `camunda-external-task-client-js` types them
 * (the original's `CamundaTaskParameters`); they satisfy `CommandParameters`.
 */
export interface CamundaTaskParameters {
  task: Task;
  taskService: TaskService;
}

/**
 * A service-task handler, subscribed on its `topic`. The runner sets
 * `parameters` to `{task, taskService}` before each `execute()`. A command
 * may declare them as `CommandParameters`, as the client library types them
 * (`CamundaTaskParameters`), or loosely as `AnyObject`, as commands written
 * for the original do; each of these satisfies this interface.
 */
export interface ICommand<P extends object = CommandParameters | AnyObject> {
  topic?: string;
  parameters: P;
  execute(): Promise<unknown>;
}

/**
 * Marks a command class whose one instance may run many work items at
 * once: set as its own static property (`static readonly [SHARED_COMMAND] =
 * true`), it tells the executor to resolve the command once, in a
 * system-user context of its own, and to call `executeWith(parameters)` on
 * it for every work item instead of resolving it again and setting
 * `parameters`. Such a command keeps nothing of a run on the instance. A
 * subclass is resolved for each run again unless it is marked itself.
 */
export const SHARED_COMMAND = Symbol.for(
  'loopback4-task-service.shared-command',
);

/** A command marked with `SHARED_COMMAND`. */
export interface SharedCommand extends ICommand {
  /** `execute()`, with the parameters of this run given rather than set. */
  executeWith(parameters: CommandParameters): Promise<unknown>;
}
