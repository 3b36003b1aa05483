import {AnyObject} from '@loopback/repository';

export interface DeployedWorkflow {
  /** The engine's definition id (Camunda: process-definition id). */
  externalId: string;
  /** The engine's own version number of the definition. */
  version: number;
}

export interface PendingUserTask {
  id: string;
  name: string;
}

export interface StartedInstance {
  id: string;
  definitionId: string;
  ended?: boolean;
}

/**
 * The port to a workflow engine. Controllers and commands use this; the
 * Camunda adapter implements it, and another engine can be bound instead.
 */
export interface IWorkflowManager {
  deploy(name: string, bpmn: string): Promise<DeployedWorkflow>;
  start(definitionId: string, input: AnyObject): Promise<StartedInstance>;
  deleteDefinitions(definitionIds: string[]): Promise<void>;
  deleteInstance(instanceId: string): Promise<void>;
  pendingUserTasks(instanceId: string): Promise<PendingUserTask[]>;
  completeUserTask(userTaskId: string, variables?: AnyObject): Promise<void>;
}

/** Raised by an engine adapter when it has no such workflow. */
export class UnknownWorkflowError extends Error {
  constructor(
    readonly workflowKey: string,
    cause?: string,
  ) {
    super(
      `Workflow ${workflowKey} is not known to the engine${cause ? `: ${cause}` : ''}`,
    );
  }
}

/** Raised by an engine adapter when a user task is not (or no longer) there. */
export class UnknownUserTaskError extends Error {
  constructor(readonly userTaskId: string) {
    super(`User task ${userTaskId} is not known to the engine`);
  }
}
