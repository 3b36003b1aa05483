import {AnyObject} from '@loopback/repository';
import {TaskServiceError} from '../errors';

export interface DeployedWorkflow {
  /** The engine's definition id (Camunda: process-definition id). */
  externalId: string;
  /** The engine's own version number of the definition. */
  version: number;
}

/** What is known of a deployment besides its BPMN; an engine may ignore it. */
export interface DeploymentDetails {
  description?: string;
  inputSchema?: AnyObject;
  /** Set when the deployment is a new version of this workflow (an update). */
  workflowId?: string;
}

export interface PendingUserTask {
  id: string;
  name: string;
}

export interface StartedInstance {
  id: string;
  definitionId: string;
  ended?: boolean;
  /** The business key it was started with, if any. */
  businessKey?: string;
}

/** How an instance is started. */
export interface StartOptions {
  /**
   * A key of the caller's, unique per start it means to make once (Camunda:
   * the instance's business key). `findInstanceByBusinessKey` finds the
   * instance by it, so a start whose answer was lost is not made twice.
   */
  businessKey?: string;
}

/**
 * The port to a workflow engine: deploy, start, and the user tasks of an
 * instance. Services and commands use this; the Camunda adapter implements
 * it, and an engine of your own can be bound at `CUSTOM_BPMN_RUNNER`.
 * Errors: `WorkflowRefusedError`, `UnknownWorkflowError`,
 * `UnknownUserTaskError`; anything else is the engine failing.
 */
export interface IWorkflowManager {
  /** Deploys a definition; one the engine cannot take is a `WorkflowRefusedError`. */
  deploy(
    name: string,
    bpmn: string,
    details?: DeploymentDetails,
  ): Promise<DeployedWorkflow>;
  /** Starts an instance; a definition the engine does not have is an `UnknownWorkflowError`. */
  start(
    definitionId: string,
    input: AnyObject,
    options?: StartOptions,
  ): Promise<StartedInstance>;
  /**
   * The instance started with this business key, running or ended, if any
   * (the first started, should there be several). The service looks here
   * before it starts again what may have started already (a redelivered
   * event, a retried work item after a crash). An engine without it gets
   * its instances started at least once rather than exactly once.
   */
  findInstanceByBusinessKey?(
    businessKey: string,
  ): Promise<StartedInstance | undefined>;
  /** Deletes definitions with their instances; ones already gone are fine. */
  deleteDefinitions(definitionIds: string[]): Promise<void>;
  /** Deletes an instance; one already gone is fine. */
  deleteInstance(instanceId: string): Promise<void>;
  /** The instance's user tasks that wait for a person, oldest first. */
  pendingUserTasks(instanceId: string): Promise<PendingUserTask[]>;
  /** Completes a user task; one that is not there is an `UnknownUserTaskError`. */
  completeUserTask(userTaskId: string, variables?: AnyObject): Promise<void>;
  /**
   * Optional: whether an instance of the definition can wait at a user task
   * of its own (the definition holds one). The user tasks of an instance
   * whose definition has none are not looked for after each of its steps;
   * an engine without it is asked after every step.
   */
  definitionHasUserTasks?(definitionId: string): Promise<boolean>;
  /**
   * Optional: a cheap call that throws when the engine does not answer;
   * `GET /ready` uses it. An engine without it counts as ready.
   */
  ping?(): Promise<void>;
}

/** Raised by an engine adapter when it refuses a definition (malformed, not executable). */
export class WorkflowRefusedError extends TaskServiceError {
  constructor(readonly reason: string) {
    super('invalid', `The engine refused the BPMN: ${reason}`);
  }
}

/** Raised by an engine adapter when it has no such workflow. */
export class UnknownWorkflowError extends TaskServiceError {
  constructor(
    readonly workflowKey: string,
    cause?: string,
  ) {
    super(
      'not-found',
      `Workflow ${workflowKey} is not known to the engine${cause ? `: ${cause}` : ''}`,
    );
  }
}

/** Raised by an engine adapter when a user task is not (or no longer) there. */
export class UnknownUserTaskError extends TaskServiceError {
  constructor(readonly userTaskId: string) {
    super('not-found', `User task ${userTaskId} is not known to the engine`);
  }
}
