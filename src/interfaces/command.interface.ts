import {AnyObject} from '@loopback/repository';

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

/** A service-task handler, subscribed on its `topic`. */
export interface ICommand<P = CommandParameters> {
  topic?: string;
  parameters: P;
  execute(): Promise<unknown>;
}
