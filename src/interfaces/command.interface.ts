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
