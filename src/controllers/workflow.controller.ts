import {inject, intercept, service} from '@loopback/core';
import {
  AnyObject,
  Filter,
  FilterExcludingWhere,
  Options,
  repository,
} from '@loopback/repository';
import {
  del,
  get,
  getModelSchemaRef,
  HttpErrors,
  param,
  patch,
  post,
  requestBody,
  response,
  SchemaObject,
} from '@loopback/rest';
import {
  assertKnownProperties,
  badValuesAsBadRequest,
  uuidParam,
} from './params';
import {requires} from '../auth';
import {
  IWorkflowManager,
  StartedInstance,
  UnknownWorkflowError,
} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {Workflow, WorkflowVersion} from '../models';
import {WorkflowRepository, WorkflowVersionRepository} from '../repositories';
import {definitionRefusal} from '../security/engine-refusal';
import {WorkflowInputValidator} from '../services';

export interface WorkflowDto {
  name: string;
  bpmnFile: string;
  inputSchema?: AnyObject;
  description?: string;
}

const WORKFLOW_DTO_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: {type: 'string', minLength: 1, maxLength: 255},
    bpmnFile: {type: 'string', minLength: 1, description: 'The BPMN XML'},
    inputSchema: {type: 'object', description: 'JSON Schema of the input'},
    description: {type: 'string'},
  },
} satisfies SchemaObject;

const EXECUTE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['input'],
  properties: {
    input: {type: 'object'},
    workflowVersion: {type: 'integer', minimum: 1, maximum: 2147483647},
  },
} satisfies SchemaObject;

const PROVIDER = 'camunda';

/** Deploy, version, run and remove BPMN workflows on the engine. */
@intercept(badValuesAsBadRequest)
export class WorkflowController {
  constructor(
    @repository(WorkflowRepository)
    private readonly workflows: WorkflowRepository,
    @repository(WorkflowVersionRepository)
    private readonly versions: WorkflowVersionRepository,
    @inject(TaskServiceBindings.WORKFLOW_MANAGER)
    private readonly engine: IWorkflowManager,
    @service(WorkflowInputValidator)
    private readonly validator: WorkflowInputValidator,
  ) {}

  @requires('CreateWorkflow')
  @post('/workflows')
  @response(200, {
    description: 'The deployed workflow, version 1',
    content: {
      'application/json': {
        schema: getModelSchemaRef(Workflow, {includeRelations: true}),
      },
    },
  })
  async create(
    @requestBody({
      content: {
        'application/json': {
          schema: {...WORKFLOW_DTO_SCHEMA, required: ['name', 'bpmnFile']},
        },
      },
    })
    dto: WorkflowDto,
  ): Promise<Workflow> {
    this.validator.assertSchema(dto.inputSchema);
    const deployed = await this.deploy(dto.name, dto.bpmnFile);
    const id = await this.recordDeployment(
      deployed.externalId,
      async options => {
        const workflow = await this.workflows.create(
          {
            name: dto.name,
            description: dto.description,
            workflowVersion: 1,
            externalIdentifier: deployed.externalId,
            provider: PROVIDER,
            inputSchema: dto.inputSchema,
          },
          options,
        );
        await this.versions.create(
          {
            workflowId: workflow.id!,
            version: 1,
            bpmnDiagram: dto.bpmnFile,
            externalWorkflowId: deployed.externalId,
            inputSchema: dto.inputSchema,
          },
          options,
        );
        return workflow.id!;
      },
    );
    return this.workflows.findById(id, {include: ['workflowVersions']});
  }

  @requires('UpdateWorkflow')
  @patch('/workflows/{id}')
  @response(200, {
    description: 'The workflow, pointing at its new version',
    content: {
      'application/json': {
        schema: getModelSchemaRef(Workflow, {includeRelations: true}),
      },
    },
  })
  async update(
    @uuidParam('id') id: string,
    @requestBody({content: {'application/json': {schema: WORKFLOW_DTO_SCHEMA}}})
    dto: Partial<WorkflowDto>,
  ): Promise<Workflow> {
    const current = await this.workflows.findById(id);
    const newest = await this.newestVersion(current);
    const inputSchema = dto.inputSchema ?? newest.inputSchema;
    this.validator.assertSchema(inputSchema);
    const bpmn = dto.bpmnFile ?? newest.bpmnDiagram ?? '';
    const name = dto.name ?? current.name;
    const deployed = await this.deploy(name, bpmn);
    await this.recordDeployment(deployed.externalId, async options => {
      // Concurrent updates number their versions one after the other.
      await this.workflows.lockById(id, options);
      const workflow = await this.workflows.findById(id, undefined, options);
      const version = workflow.workflowVersion + 1;
      await this.versions.create(
        {
          workflowId: id,
          version,
          bpmnDiagram: bpmn,
          externalWorkflowId: deployed.externalId,
          inputSchema,
        },
        options,
      );
      await this.workflows.updateById(
        id,
        {
          name,
          description: dto.description ?? workflow.description,
          workflowVersion: version,
          externalIdentifier: deployed.externalId,
          inputSchema,
        },
        options,
      );
    });
    return this.workflows.findById(id, {include: ['workflowVersions']});
  }

  @requires('ExecuteWorkflow')
  @post('/workflows/{id}/execute')
  @response(200, {
    description: 'The started process instance',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          properties: {
            id: {type: 'string'},
            definitionId: {type: 'string'},
            ended: {type: 'boolean'},
          },
        },
      },
    },
  })
  async execute(
    @uuidParam('id') id: string,
    @requestBody({content: {'application/json': {schema: EXECUTE_SCHEMA}}})
    body: {input: AnyObject; workflowVersion?: number},
  ): Promise<StartedInstance> {
    const workflow = await this.workflows.findById(id);
    const version = body.workflowVersion
      ? await this.versions.findOne({
          where: {workflowId: id, version: body.workflowVersion},
        })
      : await this.newestVersion(workflow);
    if (!version) {
      throw new HttpErrors.NotFound(
        `Workflow ${id} has no version ${body.workflowVersion}.`,
      );
    }
    this.validator.assertValid(body.input, version.inputSchema);
    try {
      return await this.engine.start(version.externalWorkflowId, body.input);
    } catch (err) {
      if (err instanceof UnknownWorkflowError) {
        throw new HttpErrors.Conflict(
          `The engine no longer has version ${version.version} of workflow ${id}.`,
        );
      }
      throw err;
    }
  }

  @requires('ViewWorkflow')
  @get('/workflows')
  @response(200, {
    description: 'Workflows with their versions',
    content: {
      'application/json': {
        schema: {
          type: 'array',
          items: getModelSchemaRef(Workflow, {includeRelations: true}),
        },
      },
    },
  })
  find(@param.filter(Workflow) filter?: Filter<Workflow>): Promise<Workflow[]> {
    assertKnownProperties(Workflow, filter);
    return this.workflows.find({include: ['workflowVersions'], ...filter});
  }

  @requires('ViewWorkflow')
  @get('/workflows/{id}')
  @response(200, {
    description: 'A workflow with its versions',
    content: {
      'application/json': {
        schema: getModelSchemaRef(Workflow, {includeRelations: true}),
      },
    },
  })
  findById(
    @uuidParam('id') id: string,
    @param.filter(Workflow, {exclude: 'where'})
    filter?: FilterExcludingWhere<Workflow>,
  ): Promise<Workflow> {
    return this.workflows.findById(id, {
      include: ['workflowVersions'],
      ...filter,
    });
  }

  @requires('DeleteWorkflow')
  @del('/workflows/{id}')
  @response(204, {
    description: 'Workflow and all its versions deleted, in the engine too',
  })
  async deleteById(@uuidParam('id') id: string): Promise<void> {
    await this.workflows.findById(id);
    const versions = await this.versions.find({where: {workflowId: id}});
    await this.engine.deleteDefinitions(
      versions.map(v => v.externalWorkflowId),
    );
    await this.versions.deleteAll({workflowId: id});
    await this.workflows.deleteByIdHard(id);
  }

  @requires('DeleteWorkflow')
  @del('/workflows/{id}/version/{version}')
  @response(204, {description: 'Version deleted, in the engine too'})
  async deleteVersion(
    @uuidParam('id') id: string,
    @param.path.integer('version', {
      schema: {type: 'integer', minimum: 1, maximum: 2147483647},
    })
    versionNumber: number,
  ): Promise<void> {
    const workflow = await this.workflows.findById(id);
    if (versionNumber === workflow.workflowVersion) {
      throw new HttpErrors.BadRequest(
        'The newest version of a workflow cannot be deleted; delete the workflow instead.',
      );
    }
    const version = await this.versions.findOne({
      where: {workflowId: id, version: versionNumber},
    });
    if (!version) {
      throw new HttpErrors.NotFound(
        `Workflow ${id} has no version ${versionNumber}.`,
      );
    }
    await this.engine.deleteDefinitions([version.externalWorkflowId]);
    await this.versions.deleteById(version.id!);
  }

  /**
   * Records a deployment in one transaction; if that fails, the deployment
   * is taken back so the engine holds no definition we do not know of.
   */
  private async recordDeployment<T>(
    definitionId: string,
    work: (options: Options) => Promise<T>,
  ): Promise<T> {
    const tx = await this.workflows.beginTransaction();
    try {
      const result = await work({transaction: tx});
      await tx.commit();
      return result;
    } catch (err) {
      await tx.rollback();
      await this.undeploy(definitionId);
      throw err;
    }
  }

  /** Takes back a deployment whose rows did not commit; a failure here is logged, the first error stands. */
  private async undeploy(definitionId: string) {
    try {
      await this.engine.deleteDefinitions([definitionId]);
    } catch (err) {
      console.error(
        `Workflow definition ${definitionId} was deployed but not recorded, and could not be removed: ${(err as Error).message}`,
      );
    }
  }

  private async newestVersion(workflow: Workflow): Promise<WorkflowVersion> {
    const newest = await this.versions.findOne({
      where: {workflowId: workflow.id!, version: workflow.workflowVersion},
    });
    if (!newest) {
      throw new HttpErrors.Conflict(
        `Workflow ${workflow.id} has lost its newest version.`,
      );
    }
    return newest;
  }

  /** Deploys; a BPMN the engine refuses is the caller's mistake (400 with the engine's words). */
  private async deploy(name: string, bpmn: string) {
    try {
      return await this.engine.deploy(name, bpmn);
    } catch (err) {
      const reason = definitionRefusal(err);
      if (reason !== undefined) {
        throw new HttpErrors.BadRequest(
          `The engine refused the BPMN: ${reason}`,
        );
      }
      throw err;
    }
  }
}
