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
