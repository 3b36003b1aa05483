import {BindingScope, inject, injectable, service} from '@loopback/core';
import {Options, repository} from '@loopback/repository';
import {TaskServiceError} from '../errors';
import {
  IUserTaskService,
  IWorkflowManager,
  UnknownUserTaskError,
} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {EventType, UserTask, UserTaskStatus} from '../models';
import {TaskRepository, UserTaskRepository} from '../repositories';
import {TaskSqlBindings, TransactionRunner} from '../sql';
import {EventOutbox} from './event-outbox.service';

export const USER_TASK_NOT_FOUND = 'User Task not found';
const ALREADY_COMPLETED = 'User Task is already completed';

/** Completes user tasks in the engine and keeps their rows in step with it. */
@injectable({scope: BindingScope.TRANSIENT})
export class UserTaskService implements IUserTaskService {
  constructor(
    @repository(TaskRepository) private readonly tasks: TaskRepository,
    @repository(UserTaskRepository)
    private readonly userTasks: UserTaskRepository,
    @inject(TaskServiceBindings.WORKFLOW_MANAGER)
    private readonly engine: IWorkflowManager,
    @inject(TaskSqlBindings.TASK_TRANSACTIONS)
    private readonly transactions: TransactionRunner,
    @service(EventOutbox) private readonly outbox: EventOutbox,
  ) {}

  /**
   * Completes the user task in the engine and, in the same database
   * transaction, marks it completed, records the user tasks that became
   * pending and writes the `user-task-completed` event. The task row stays
   * locked meanwhile: the end-task command that the completion may trigger
   * waits for this commit, so its `task-completed` comes after ours. If the
   * engine no longer has the user task (a retry after a failed commit), the
   * recording still happens.
   */
  async complete(taskId: string, userTaskId: string): Promise<UserTask> {
    const task = await this.tasks.findById(taskId);
    const userTask = await this.userTasks.findOne({
      where: {id: userTaskId, taskId},
    });
    if (!userTask) throw new TaskServiceError('not-found', USER_TASK_NOT_FOUND);
    if (userTask.status === UserTaskStatus.Completed) {
      throw new TaskServiceError('invalid', ALREADY_COMPLETED);
    }
    const completed = await this.transactions.run(async options => {
      await this.tasks.lockById(taskId, options);
      // A completion of the same user task sent at the same time (a client
      // retrying on another instance) may have committed while this one
      // waited for the lock: it must not complete and announce it again.
      const current = await this.userTasks.findById(
        userTaskId,
        undefined,
        options,
      );
      if (current.status === UserTaskStatus.Completed) {
        throw new TaskServiceError('invalid', ALREADY_COMPLETED);
      }
      if (userTask.externalId) {
        try {
          await this.engine.completeUserTask(userTask.externalId);
        } catch (err) {
          if (!(err instanceof UnknownUserTaskError)) throw err;
        }
      }
      await this.userTasks.updateById(
        userTaskId,
        {status: UserTaskStatus.Completed},
        options,
      );
      const done = await this.userTasks.findById(
        userTaskId,
        undefined,
        options,
      );
      if (task.externalId) await this.record(taskId, task.externalId, options);
      await this.outbox.announce(
        EventType.UserTaskCompleted,
        {task, userTask: done},
        options,
      );
      return done;
    });
    this.outbox.relaySoon();
    return completed;
  }

  async updateList(
    taskId: string,
    instanceId: string,
    options?: Options,
  ): Promise<UserTask[]> {
    return this.record(taskId, instanceId, options);
  }

  /** Records the instance's pending user tasks not recorded yet; returns the new rows. */
  private async record(
    taskId: string,
    instanceId: string,
    options?: Options,
  ): Promise<UserTask[]> {
    const pending = await this.engine.pendingUserTasks(instanceId);
    if (!pending.length) return [];
    return this.userTasks.recordPending(taskId, pending, options);
  }
}
