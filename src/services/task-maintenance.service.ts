import {BindingScope, inject, injectable} from '@loopback/core';
import {Count, DataObject, repository, Where} from '@loopback/repository';
import {TaskServiceError} from '../errors';
import {IWorkflowManager} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {Task, UserTask, UserTaskStatus} from '../models';
import {TaskRepository, UserTaskRepository} from '../repositories';
import {TaskSqlBindings, TransactionRunner} from '../sql';
import {TaskObservabilityBindings} from '../observability/keys';
import {fallbackLogger} from '../observability/logger';
import type {TaskLogger} from '../observability/types';

/** Updates and deletes of tasks that must also touch their user tasks and workflow instances. */
@injectable({scope: BindingScope.TRANSIENT})
export class TaskMaintenanceService {
  constructor(
    @repository(TaskRepository) private readonly tasks: TaskRepository,
    @repository(UserTaskRepository)
    private readonly userTasks: UserTaskRepository,
    @inject(TaskSqlBindings.TASK_TRANSACTIONS)
    private readonly transactions: TransactionRunner,
    @inject(TaskServiceBindings.WORKFLOW_MANAGER, {optional: true})
    private readonly engine?: IWorkflowManager,
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
  ) {}

  /** Updates the matching tasks; a status change is copied to their open user tasks. */
  async updateTasks(data: Partial<Task>, where?: Where<Task>): Promise<Count> {
    return this.transactions.run(async options => {
      let affected: string[] = [];
      if (data.status) {
        const matching = await this.tasks.find(
          {where, fields: {id: true}},
          options,
        );
        affected = matching.map(t => t.id!);
      }
      const count = await this.tasks.updateAll(
        data as DataObject<Task>,
        where,
        options,
      );
      if (data.status && affected.length) {
        await this.userTasks.updateAll(
          {status: data.status} as unknown as DataObject<UserTask>,
          {taskId: {inq: affected}, status: {neq: UserTaskStatus.Completed}},
          options,
        );
      }
      return count;
    });
  }

  /**
   * Deletes the matching tasks for real. With `cascade`, their user tasks go
   * too and their workflow instances are deleted in the engine (best effort:
   * a failure there is logged, the rows are gone either way). Without it, a
   * task that still has user tasks is refused (`conflict`).
   */
  async deleteTasks(
    where: Where<Task> | undefined,
    cascade: boolean,
  ): Promise<Count> {
    const doomed = await this.transactions.run(async options => {
      const found = await this.tasks.find({where}, options);
      const ids = found.map(t => t.id!);
      if (!ids.length) return found;
      if (!cascade) {
        const {count} = await this.userTasks.count(
          {taskId: {inq: ids}},
          options,
        );
        if (count > 0) {
          throw new TaskServiceError(
            'conflict',
            'Task has user tasks: delete them first, or delete with cascade=true.',
          );
        }
      }
      // Without cascade only soft-deleted user tasks are left to remove.
      await this.userTasks.deleteAllHard({taskId: {inq: ids}}, options);
      await this.tasks.deleteAllHard({id: {inq: ids}}, options);
      return found;
    });
    if (cascade) await this.deleteInstances(doomed);
    return {count: doomed.length};
  }

  private async deleteInstances(tasks: Task[]): Promise<void> {
    if (!this.engine) return;
    for (const task of tasks) {
      if (!task.externalId) continue;
      try {
        await this.engine.deleteInstance(task.externalId);
      } catch (err) {
        this.logger.warn(
          {err, taskId: task.id, workflowInstanceId: task.externalId},
          'Could not delete the workflow instance of a deleted task',
        );
      }
    }
  }
}
