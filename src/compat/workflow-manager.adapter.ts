import {AnyObject} from '@loopback/repository';
import {
  DeployedWorkflow,
  DeploymentDetails,
  IWorkflowManager,
  PendingUserTask,
  StartedInstance,
  UnknownWorkflowError,
} from '../interfaces';
import {Workflow, WorkflowVersion} from '../models';
import {WorkflowRepository, WorkflowVersionRepository} from '../repositories';
import {WorflowManager} from './bpmn';

/**
 * A workflow manager of the original's shape behind `IWorkflowManager`.
 * Deployments, starts and deletions go to it, with the workflow and version
 * rows it expects, as the original's controller handed them over. That
 * shape has nothing for instances and user tasks: those go to `rest`
 * (Camunda's REST API at `workflowEngineBaseUrl`), as the original's own
 * services did. `getWorkflowById` is not called: `GET /workflows/{id}`
 * answers from the database.
 */
export class WorflowManagerAdapter implements IWorkflowManager {
  constructor(
    readonly manager: WorflowManager,
    private readonly rest: IWorkflowManager,
    private readonly workflows: () => Promise<WorkflowRepository>,
    private readonly versions: () => Promise<WorkflowVersionRepository>,
  ) {}

  /** `createWorkflow` for a new workflow, `updateWorkflow` for a new version of one. */
  async deploy(
    name: string,
    bpmn: string,
    details: DeploymentDetails = {},
  ): Promise<DeployedWorkflow> {
    const dto = {
      name,
      bpmnFile: bpmn,
      inputSchema: details.inputSchema ?? {},
      description: details.description,
    };
    const answer = details.workflowId
      ? await this.manager.updateWorkflow(dto)
      : await this.manager.createWorkflow(dto);
    const externalId = answer?.externalId || answer?.processId;
    if (!externalId) {
      throw new Error(
        `The workflow manager deployed ${name} but answered no externalId: ${JSON.stringify(answer)}`,
      );
    }
    return {externalId, version: Number(answer.version)};
  }

  /**
   * Starts a definition recorded here, handing over its workflow row (and
   * its version row when that is not the current one). As in the original,
   * a definition not deployed through `/workflows` is not started.
   */
  async start(
    definitionId: string,
    input: AnyObject,
  ): Promise<StartedInstance> {
    const version = await (
      await this.versions()
    ).findOne({where: {externalWorkflowId: definitionId}});
    const workflow =
      version &&
      (await (
        await this.workflows()
      ).findOne({where: {id: version.workflowId}}));
    if (!version || !workflow) {
      throw new UnknownWorkflowError(
        definitionId,
        'a workflow manager bound at WorkflowServiceBindings.WorkflowManager starts only workflows deployed through /workflows',
      );
    }
    const current = workflow.externalIdentifier === definitionId;
    const answer = await this.manager.startWorkflow(
      input,
      workflow,
      current ? undefined : version,
    );
    if (typeof answer?.id !== 'string') {
      throw new Error(
        `The workflow manager started ${definitionId} but answered no instance id: ${JSON.stringify(answer)}`,
      );
    }
    return {
      id: answer.id,
      definitionId:
        typeof answer.definitionId === 'string'
          ? answer.definitionId
          : definitionId,
      ended: answer.ended === true,
    };
  }

  /**
   * `deleteWorkflowById` with every version when all of a workflow's
   * versions go, else `deleteWorkflowVersionById` for each one; a
   * definition with no row (a deployment being taken back) goes as a
   * workflow of that one version.
   */
  async deleteDefinitions(definitionIds: string[]): Promise<void> {
    if (!definitionIds.length) return;
    const versions = await this.versions();
    const rows = await versions.find({
      where: {externalWorkflowId: {inq: definitionIds}},
    });
    const byWorkflow = new Map<string, WorkflowVersion[]>();
    for (const row of rows) {
      byWorkflow.set(row.workflowId, [
        ...(byWorkflow.get(row.workflowId) ?? []),
        row,
      ]);
    }
    for (const [workflowId, doomed] of byWorkflow) {
      const all = await versions.find({where: {workflowId}});
      const workflow = await (
        await this.workflows()
      ).findOne({where: {id: workflowId}});
      if (workflow && all.length === doomed.length) {
        workflow.workflowVersions = all;
        await this.manager.deleteWorkflowById(workflow);
      } else {
        for (const version of doomed) await this.deleteVersion(version);
      }
    }
    for (const id of definitionIds) {
      if (rows.some(r => r.externalWorkflowId === id)) continue;
      const version = new WorkflowVersion({externalWorkflowId: id});
      await this.manager.deleteWorkflowById(
        new Workflow({externalIdentifier: id, workflowVersions: [version]}),
      );
    }
  }

  deleteInstance(instanceId: string): Promise<void> {
    return this.rest.deleteInstance(instanceId);
  }

  pendingUserTasks(instanceId: string): Promise<PendingUserTask[]> {
    return this.rest.pendingUserTasks(instanceId);
  }

  completeUserTask(userTaskId: string, variables?: AnyObject): Promise<void> {
    return this.rest.completeUserTask(userTaskId, variables);
  }

  private async deleteVersion(version: WorkflowVersion): Promise<void> {
    if (!this.manager.deleteWorkflowVersionById) {
      throw new Error(
        'The workflow manager bound at WorkflowServiceBindings.WorkflowManager has no deleteWorkflowVersionById: a version cannot be deleted alone.',
      );
    }
    await this.manager.deleteWorkflowVersionById(version);
  }
}
