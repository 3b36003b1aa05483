import {inject, Provider, service} from '@loopback/core';
import {CamundaService} from '../engines/camunda';
import {IWorkflowManager} from '../interfaces';
import {TaskServiceBindings} from '../keys';

/**
 * The workflow engine in use: the one bound at `CUSTOM_BPMN_RUNNER` (the
 * original's key), else Camunda. Looked up each time the engine is asked
 * for, so a custom engine bound after the component was mounted counts.
 */
export class WorkflowManagerProvider implements Provider<IWorkflowManager> {
  constructor(
    @inject(TaskServiceBindings.CUSTOM_BPMN_RUNNER, {optional: true})
    private readonly custom: IWorkflowManager | undefined,
    @service(CamundaService) private readonly camunda: CamundaService,
  ) {}

  value(): IWorkflowManager {
    return this.custom ?? this.camunda;
  }
}
