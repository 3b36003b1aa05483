import {BindingScope, injectable, Provider, service} from '@loopback/core';
import {CamundaProcessDefinition, CamundaService} from '../engines/camunda';
import {TaskServiceError} from '../errors';
import {Workflow} from '../models';
import type {WorkflowDto} from '../services/workflow.service';
import {SuccessResponse, WorflowManager} from './bpmn';

interface Deployment {
  deployedProcessDefinitions?: Record<
    string,
    {id: string; version: number}
  > | null;
}

/**
 * The original's default workflow manager, on `CamundaService`: Camunda
 * deploys a file only when it changed since the last deployment of its name
 * (an unchanged one is refused with 400), starts by definition id, and
 * deletes definitions. Bind it at `WorkflowServiceBindings.WorkflowManager`
 * for the original's deployment rules; without such a binding the service
 * talks to Camunda itself.
 */
@injectable({scope: BindingScope.TRANSIENT})
export class BpmnProvider implements Provider<WorflowManager> {
  constructor(
    @service(CamundaService) private readonly camunda: CamundaService,
  ) {}

  value(): WorflowManager {
    return {
      getWorkflowById: async workflow => {
        const definition = await this.camunda.get<CamundaProcessDefinition>(
          workflow.externalIdentifier,
        );
        return new Workflow({
          id: workflow.id,
          provider: 'camunda',
          workflowVersion: workflow.workflowVersion,
          externalIdentifier: definition.id,
          name: definition.name ?? workflow.name,
          inputSchema: workflow.inputSchema,
        });
      },
      startWorkflow: (input, workflow, version) =>
        this.camunda.execute(
          version?.externalWorkflowId ?? workflow.externalIdentifier,
          input,
        ),
      createWorkflow: dto =>
        this.deploy(
          dto,
          'Workflow with same name and definition already exists',
        ),
      updateWorkflow: dto =>
        this.deploy(dto, 'Workflow not changed or Worflow does not exist!'),
      deleteWorkflowById: async workflow => {
        await this.camunda.delete(
          (workflow.workflowVersions ?? []).map(v => v.externalWorkflowId),
        );
        return workflow;
      },
      deleteWorkflowVersionById: async version => {
        await this.camunda.deleteVersion(version.externalWorkflowId);
        return version;
      },
    };
  }

  private async deploy(
    dto: WorkflowDto,
    unchanged: string,
  ): Promise<SuccessResponse> {
    const deployment = await this.camunda.create<Deployment>(
      dto.name,
      dto.bpmnFile,
    );
    const [definition] = Object.values(
      deployment.deployedProcessDefinitions ?? {},
    );
    if (!definition) throw new TaskServiceError('invalid', unchanged);
    return {
      version: definition.version,
      provider: 'camunda',
      processId: definition.id,
      externalId: definition.id,
      fileRef: dto.bpmnFile,
    };
  }
}
