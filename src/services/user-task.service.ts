import {BindingScope, inject, injectable, service} from '@loopback/core';
import {Options, repository} from '@loopback/repository';
import {TaskServiceError} from '../errors';
import {
  IUserTaskService,
  IWorkflowManager,
  UnknownUserTaskError,
} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {EventType, Task, UserTask, UserTaskStatus} from '../models';
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
      if (task.externalId) await this.record(taskId, task.externalId, options);
      return this.markCompleted(task, userTaskId, options);
    });
    this.outbox.relaySoon();
    return completed;
  }

  /**
   * Marks completed, and announces, the task's user tasks that are pending
   * here but that the engine no longer has: a completion that reached the
   * engine while its commit failed (the client's retry finds it done), or
   * one made in the engine directly. The end-task command runs this under
   * the task's row lock before it writes `task-completed`, so no
   * `user-task-completed` of the task can follow it. Returns how many.
   */
  async settleFinished(
    taskId: string,
    instanceId: string,
    options: Options,
  ): Promise<number> {
    const open = await this.userTasks.find(
      {
        where: {taskId, status: UserTaskStatus.Pending},
        order: ['createdOn ASC', 'id ASC'],
      },
      options,
    );
    if (!open.length) return 0;
    const inEngine = new Set(
      (await this.engine.pendingUserTasks(instanceId)).map(p => p.id),
    );
    const finished = open.filter(
      u => u.externalId && !inEngine.has(u.externalId),
    );
    if (!finished.length) return 0;
    const task = await this.tasks.findById(taskId, undefined, options);
    for (const userTask of finished) {
      await this.markCompleted(task, userTask.id!, options);
    }
    return finished.length;
  }

  async updateList(
    taskId: string,
    instanceId: string,
    options?: Options,
  ): Promise<UserTask[]> {
    return this.record(taskId, instanceId, options);
  }

  /**
   * Marks the user task completed and writes its `user-task-completed`, in
   * the transaction of `options`.
   */
  private async markCompleted(
    task: Task,
    userTaskId: string,
    options: Options,
  ): Promise<UserTask> {
    await this.userTasks.updateById(
      userTaskId,
      {status: UserTaskStatus.Completed},
      options,
    );
    const done = await this.userTasks.findById(userTaskId, undefined, options);
    await this.outbox.announce(
      EventType.UserTaskCompleted,
      {task, userTask: done},
      options,
    );
    return done;
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
