import {intercept, service} from '@loopback/core';
import {AnyObject, Filter, FilterExcludingWhere} from '@loopback/repository';
import {
  del,
  get,
  getModelSchemaRef,
  param,
  patch,
  post,
  requestBody,
  response,
  SchemaObject,
} from '@loopback/rest';
import {requires} from '../auth';
import {StartedInstance} from '../interfaces';
import {Workflow} from '../models';
import {WorkflowDto, WorkflowService} from '../services';
import {asHttpErrors} from './http-errors';
import {assertKnownProperties, uuidParam} from './params';

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

/** The `/workflows` routes; `WorkflowService` does the work. */
@intercept(asHttpErrors)
export class WorkflowController {
  constructor(
    @service(WorkflowService) private readonly workflows: WorkflowService,
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
    return this.workflows.create(dto);
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
    return this.workflows.update(id, dto);
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
    return this.workflows.execute(id, body.input, body.workflowVersion);
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
    return this.workflows.find(filter);
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
    return this.workflows.findById(id, filter);
  }

  @requires('DeleteWorkflow')
  @del('/workflows/{id}')
  @response(204, {
    description: 'Workflow and all its versions deleted, in the engine too',
  })
  deleteById(@uuidParam('id') id: string): Promise<void> {
    return this.workflows.remove(id);
  }

  @requires('DeleteWorkflow')
  @del('/workflows/{id}/version/{version}')
  @response(204, {description: 'Version deleted, in the engine too'})
  deleteVersion(
    @uuidParam('id') id: string,
    @param.path.integer('version', {
      schema: {type: 'integer', minimum: 1, maximum: 2147483647},
    })
    versionNumber: number,
  ): Promise<void> {
    return this.workflows.removeVersion(id, versionNumber);
  }
}
