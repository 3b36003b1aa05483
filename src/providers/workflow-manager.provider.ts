import {Getter, inject, Provider, service} from '@loopback/core';
import {repository} from '@loopback/repository';
import {
  WorflowManager,
  WorflowManagerAdapter,
  WorkflowServiceBindings,
} from '../compat';
import {CamundaService} from '../engines/camunda';
import {IWorkflowManager} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {WorkflowRepository, WorkflowVersionRepository} from '../repositories';

/**
 * The workflow engine in use: the one bound at `CUSTOM_BPMN_RUNNER` (the
 * original's key), else a workflow manager of the original's shape bound at
 * `WorkflowServiceBindings.WorkflowManager` (adapted), else Camunda. Looked
 * up each time the engine is asked for, so a binding made after the
 * component was mounted counts.
 */
export class WorkflowManagerProvider implements Provider<IWorkflowManager> {
  constructor(
    @inject(TaskServiceBindings.CUSTOM_BPMN_RUNNER, {optional: true})
    private readonly custom: IWorkflowManager | undefined,
    @inject(WorkflowServiceBindings.WorkflowManager, {optional: true})
    private readonly original: WorflowManager | null | undefined,
    @service(CamundaService) private readonly camunda: CamundaService,
    @repository.getter(WorkflowRepository)
    private readonly workflows: Getter<WorkflowRepository>,
    @repository.getter(WorkflowVersionRepository)
    private readonly versions: Getter<WorkflowVersionRepository>,
  ) {}

  value(): IWorkflowManager {
    if (this.custom) return this.custom;
    if (this.original) {
      return new WorflowManagerAdapter(
        this.original,
        this.camunda,
        this.workflows,
        this.versions,
      );
    }
    return this.camunda;
  }
}
