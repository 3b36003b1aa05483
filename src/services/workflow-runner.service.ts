import {BindingScope, inject, injectable} from '@loopback/core';
import {AnyObject, repository} from '@loopback/repository';
import {
  IWorkflowManager,
  StartedInstance,
  UnknownWorkflowError,
} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {WorkflowRepository, WorkflowVersionRepository} from '../repositories';

/** Starts workflows by the key a mapping holds. */
@injectable({scope: BindingScope.TRANSIENT})
export class WorkflowRunner {
  constructor(
    @inject(TaskServiceBindings.WORKFLOW_MANAGER)
    private readonly engine: IWorkflowManager,
    @repository(WorkflowRepository)
    private readonly workflows: WorkflowRepository,
    @repository(WorkflowVersionRepository)
    private readonly versions: WorkflowVersionRepository,
  ) {}

  /**
   * The definition to start for a mapped key: a key naming any version of a
   * workflow managed here starts that workflow's newest version (so updating
   * a workflow does not break its mappings); any other key goes to the
   * engine as it is.
   */
  async resolve(workflowKey: string): Promise<string> {
    const current = await this.workflows.findOne({
      where: {externalIdentifier: workflowKey},
    });
    if (current) return current.externalIdentifier;
    const version = await this.versions.findOne({
      where: {externalWorkflowId: workflowKey},
    });
    if (version) {
      const owner = await this.workflows.findOne({
        where: {id: version.workflowId},
      });
      if (owner) return owner.externalIdentifier;
    }
    return workflowKey;
  }

  async start(workflowKey: string, input: AnyObject): Promise<StartedInstance> {
    return this.engine.start(await this.resolve(workflowKey), input);
  }

  /** Starts the workflow; an unknown one is logged and skipped, other errors propagate. */
  async startIfKnown(
    workflowKey: string,
    input: AnyObject,
    cause: string,
  ): Promise<StartedInstance | undefined> {
    try {
      return await this.start(workflowKey, input);
    } catch (err) {
      if (err instanceof UnknownWorkflowError) {
        console.warn(
          `${cause}: mapped workflow ${workflowKey} is unknown; skipped.`,
        );
        return undefined;
      }
      throw err;
    }
  }
}
