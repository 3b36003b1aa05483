import {BindingKey} from '@loopback/core';
import {AnyObject} from '@loopback/repository';
import {ExportedWorkflowServiceBindingConfig} from '../keys';
import {Workflow, WorkflowVersion} from '../models';
import type {WorkflowDto} from '../services/workflow.service';
import {WorkflowServiceConfig} from '../types';

/** What a workflow manager of the original's shape answers to a deployment. */
export interface SuccessResponse {
  version: number;
  provider: string;
  processId: string;
  externalId: string;
  fileRef?: string;
}

/**
 * A workflow manager of the original's shape (its `@sourceloop/bpmn-service`
 * spelt the name so). Bound at `WorkflowServiceBindings.WorkflowManager`,
 * it deploys, starts and deletes the workflows of `/workflows` and of the
 * mappings; this service adapts it to `IWorkflowManager`.
 */
export interface WorflowManager<T = AnyObject, S = AnyObject> {
  getWorkflowById(workflow: Workflow): Promise<Workflow>;
  startWorkflow(
    input: T,
    workflow: Workflow,
    version?: WorkflowVersion,
  ): Promise<S>;
  createWorkflow(workflowDto: WorkflowDto): Promise<SuccessResponse>;
  updateWorkflow(workflowDto: WorkflowDto): Promise<SuccessResponse>;
  deleteWorkflowById(workflow: Workflow): Promise<Workflow>;
  deleteWorkflowVersionById?(
    version: WorkflowVersion,
  ): Promise<WorkflowVersion>;
}

/** The same, spelt right. */
export type WorkflowManager<T = AnyObject, S = AnyObject> = WorflowManager<
  T,
  S
>;

/** The original's name of the workflow-engine config. */
export type IWorkflowServiceConfig = WorkflowServiceConfig;

/**
 * The binding keys that the original's users took from
 * `@sourceloop/bpmn-service`, with the same key strings.
 */
export namespace WorkflowServiceBindings {
  /** A workflow manager of the original's shape; when bound, it replaces Camunda (below `CUSTOM_BPMN_RUNNER`). */
  export const WorkflowManager = BindingKey.create<WorflowManager | null>(
    'sf.workflow.manager',
  );
  /** The workflow-engine config: the key of `ExportedWorkflowServiceBindingConfig`. */
  export const Config = ExportedWorkflowServiceBindingConfig;
}
