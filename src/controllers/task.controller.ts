import {intercept, service} from '@loopback/core';
import {
  Count,
  CountSchema,
  Filter,
  FilterExcludingWhere,
  repository,
  Where,
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
} from '@loopback/rest';
import {asHttpErrors} from './http-errors';
import {assertKnownProperties, uuidParam} from './params';
import {requires} from '../auth';
import {AUDIT_AND_ID, Task, TaskStatus, TaskWorkflow} from '../models';
import {TaskRepository, TaskWorkflowRepository} from '../repositories';
import {TaskMaintenanceService} from '../services';

const TASK_COMPLETION_BY_PATCH =
  'Task completion cannot be done through the PATCH API.';

@intercept(asHttpErrors)
export class TaskController {
  constructor(
    @repository(TaskRepository) private readonly tasks: TaskRepository,
    @repository(TaskWorkflowRepository)
    private readonly taskWorkflows: TaskWorkflowRepository,
    @service(TaskMaintenanceService)
    private readonly maintenance: TaskMaintenanceService,
  ) {}

  @requires('ViewTask')
  @get('/tasks/count')
  @response(200, {
    description: 'Number of tasks',
    content: {'application/json': {schema: CountSchema}},
  })
  count(@param.where(Task) where?: Where<Task>): Promise<Count> {
    assertKnownProperties(Task, {where});
    return this.tasks.count(where);
  }

  @requires('ViewTask')
  @get('/tasks')
  @response(200, {
    description: 'Tasks',
    content: {
      'application/json': {
        schema: {
          type: 'array',
          items: getModelSchemaRef(Task, {includeRelations: true}),
        },
      },
    },
  })
  find(@param.filter(Task) filter?: Filter<Task>): Promise<Task[]> {
    assertKnownProperties(Task, filter);
    return this.tasks.find(filter);
  }

  @requires('ViewTask')
  @get('/tasks/{id}')
  @response(200, {
    description: 'A task',
    content: {
      'application/json': {
        schema: getModelSchemaRef(Task, {includeRelations: true}),
      },
    },
  })
  findById(
    @uuidParam('id') id: string,
    @param.filter(Task, {exclude: 'where'}) filter?: FilterExcludingWhere<Task>,
  ): Promise<Task> {
    return this.tasks.findById(id, filter);
  }

  @requires('MapTask')
  @post('/tasks/mapping')
  @response(200, {
    description: 'The task-to-workflow mapping',
    content: {'application/json': {schema: getModelSchemaRef(TaskWorkflow)}},
  })
  async mapTask(
    @requestBody({
      content: {
        'application/json': {
          schema: getModelSchemaRef(TaskWorkflow, {
            title: 'NewTaskMapping',
            exclude: AUDIT_AND_ID,
          }),
        },
      },
    })
    mapping: Pick<TaskWorkflow, 'taskKey' | 'workflowKey'>,
  ): Promise<TaskWorkflow> {
    const pair = {taskKey: mapping.taskKey, workflowKey: mapping.workflowKey};
    return this.taskWorkflows.findOrCreate(pair, pair);
  }

  @requires('UpdateTask')
  @patch('/tasks')
  @response(200, {
    description: 'Number of tasks updated',
    content: {'application/json': {schema: CountSchema}},
  })
  async updateAll(
    @requestBody({
      content: {
        'application/json': {
          schema: getModelSchemaRef(Task, {
            title: 'TaskPatch',
            partial: true,
            exclude: AUDIT_AND_ID,
          }),
        },
      },
    })
    task: Partial<Task>,
    @param.where(Task) where?: Where<Task>,
  ): Promise<Count> {
    refuseCompletion(task);
    assertKnownProperties(Task, {where});
    return this.maintenance.updateTasks(task, where);
  }

  @requires('UpdateTask')
  @patch('/tasks/{id}')
  @response(204, {description: 'Task updated'})
  async updateById(
    @uuidParam('id') id: string,
    @requestBody({
      content: {
        'application/json': {
          schema: getModelSchemaRef(Task, {
            title: 'TaskPatch',
            partial: true,
            exclude: AUDIT_AND_ID,
          }),
        },
      },
    })
    task: Partial<Task>,
  ): Promise<void> {
    refuseCompletion(task);
    await this.tasks.findById(id);
    await this.maintenance.updateTasks(task, {id});
  }

  @requires('DeleteTask')
  @del('/tasks/{id}')
  @response(204, {description: 'Task deleted'})
  async deleteById(
    @uuidParam('id') id: string,
    @param.query.boolean('cascade') cascade = true,
  ): Promise<void> {
    await this.tasks.findById(id);
    await this.maintenance.deleteTasks({id}, cascade);
  }

  @requires('DeleteTask')
  @del('/tasks')
  @response(200, {
    description: 'Number of tasks deleted',
    content: {'application/json': {schema: CountSchema}},
  })
  deleteAll(
    @param.where(Task) where?: Where<Task>,
    @param.query.boolean('cascade') cascade = true,
  ): Promise<Count> {
    assertKnownProperties(Task, {where});
    return this.maintenance.deleteTasks(where, cascade);
  }
}

function refuseCompletion(task: Partial<Task>) {
  if (task.status === TaskStatus.Completed) {
    throw new HttpErrors.BadRequest(TASK_COMPLETION_BY_PATCH);
  }
}
