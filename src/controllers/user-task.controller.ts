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

/**
 * The user tasks of a task. The reads look the task up only when they find
 * nothing of it (then an unknown task is a 404 "Task not found"): a user
 * task's row implies its task's (a foreign key, and a task's user tasks go
 * with it when it is deleted), so a read that finds some costs one statement.
 * A task soft-deleted through `TaskRepository` (the REST API deletes for
 * real) whose user tasks were left live still shows them to these reads;
 * the writes below check the task first.
 */
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
    const counted = await this.userTasks.count(andWhere(where, {taskId}));
    if (!counted.count) await this.ensureTask(taskId);
    return counted;
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
    const found = await this.userTasks.find({
      ...filter,
      where: andWhere(filter?.where, {taskId}),
    });
    if (!found.length) await this.ensureTask(taskId);
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
    const userTask = await this.userTasks.findOne({
      where: {id: userTaskId, taskId},
    });
    if (userTask) return userTask;
    await this.ensureTask(taskId);
    throw new HttpErrors.NotFound(USER_TASK_NOT_FOUND);
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
