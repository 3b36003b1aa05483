import {inject, intercept} from '@loopback/core';
import {
  Count,
  CountSchema,
  Filter,
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
  response,
} from '@loopback/rest';
import {asHttpErrors} from './http-errors';
import {assertKnownProperties, uuidParam} from './params';
import {requires} from '../auth';
import {IUserTaskService} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {UserTask} from '../models';
import {andWhere, TaskRepository, UserTaskRepository} from '../repositories';
import {USER_TASK_NOT_FOUND} from '../services';

@intercept(asHttpErrors)
export class UserTaskController {
  constructor(
    @repository(TaskRepository) private readonly tasks: TaskRepository,
    @repository(UserTaskRepository)
    private readonly userTasks: UserTaskRepository,
    @inject(TaskServiceBindings.SUB_TASK_SERVICE)
    private readonly userTaskService: IUserTaskService,
  ) {}

  @requires('ViewUserTask')
  @get('/tasks/{taskId}/user-tasks/count')
  @response(200, {
    description: 'Number of user tasks of the task',
    content: {'application/json': {schema: CountSchema}},
  })
  async count(
    @uuidParam('taskId') taskId: string,
    @param.where(UserTask) where?: Where<UserTask>,
  ): Promise<Count> {
    assertKnownProperties(UserTask, {where});
    await this.ensureTask(taskId);
    return this.userTasks.count(andWhere(where, {taskId}));
  }

  @requires('ViewUserTask')
  @get('/tasks/{taskId}/user-tasks')
  @response(200, {
    description: 'User tasks of the task',
    content: {
      'application/json': {
        schema: {type: 'array', items: getModelSchemaRef(UserTask)},
      },
    },
  })
  async find(
    @uuidParam('taskId') taskId: string,
    @param.filter(UserTask) filter?: Filter<UserTask>,
  ): Promise<UserTask[]> {
    assertKnownProperties(UserTask, filter);
    // Both at once: the answer waits for one round trip, not two.
    const [, found] = await Promise.all([
      this.ensureTask(taskId),
      this.userTasks.find({
        ...filter,
        where: andWhere(filter?.where, {taskId}),
      }),
    ]);
    return found;
  }

  @requires('ViewUserTask')
  @get('/tasks/{taskId}/user-tasks/{userTaskId}')
  @response(200, {
    description: 'A user task',
    content: {'application/json': {schema: getModelSchemaRef(UserTask)}},
  })
  async findById(
    @uuidParam('taskId') taskId: string,
    @uuidParam('userTaskId') userTaskId: string,
  ): Promise<UserTask> {
    return this.findOwned(taskId, userTaskId);
  }

  @requires('CompleteUserTask')
  @patch('/tasks/{taskId}/user-tasks/{userTaskId}/complete')
  @response(204, {description: 'User task completed'})
  async complete(
    @uuidParam('taskId') taskId: string,
    @uuidParam('userTaskId') userTaskId: string,
  ): Promise<void> {
    await this.findOwned(taskId, userTaskId);
    await this.userTaskService.complete(taskId, userTaskId);
  }

  @requires('DeleteUserTask')
  @del('/tasks/{taskId}/user-tasks')
  @response(200, {
    description: 'Number of user tasks deleted',
    content: {'application/json': {schema: CountSchema}},
  })
  async deleteAll(@uuidParam('taskId') taskId: string): Promise<Count> {
    await this.ensureTask(taskId);
    return this.userTasks.deleteAllHard({taskId});
  }

  @requires('DeleteUserTask')
  @del('/tasks/{taskId}/user-tasks/{userTaskId}')
  @response(204, {description: 'User task deleted'})
  async deleteById(
    @uuidParam('taskId') taskId: string,
    @uuidParam('userTaskId') userTaskId: string,
  ): Promise<void> {
    await this.findOwned(taskId, userTaskId);
    await this.userTasks.deleteByIdHard(userTaskId);
  }

  private async ensureTask(taskId: string): Promise<void> {
    if (!(await this.tasks.exists(taskId))) {
      throw new HttpErrors.NotFound('Task not found');
    }
  }

  /** The user task, only if it belongs to the task in the path. */
  private async findOwned(
    taskId: string,
    userTaskId: string,
  ): Promise<UserTask> {
    await this.ensureTask(taskId);
    const userTask = await this.userTasks.findOne({
      where: {id: userTaskId, taskId},
    });
    if (!userTask) throw new HttpErrors.NotFound(USER_TASK_NOT_FOUND);
    return userTask;
  }
}
