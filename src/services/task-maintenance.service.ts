import {BindingScope, inject, injectable} from '@loopback/core';
import {Count, DataObject, repository, Where} from '@loopback/repository';
import {HttpErrors} from '@loopback/rest';
import {IWorkflowManager} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {Task, UserTask, UserTaskStatus} from '../models';
import {TaskRepository, UserTaskRepository} from '../repositories';

/** Updates and deletes of tasks that must also touch their user tasks and workflow instances. */
@injectable({scope: BindingScope.TRANSIENT})
export class TaskMaintenanceService {
  constructor(
    @repository(TaskRepository) private readonly tasks: TaskRepository,
    @repository(UserTaskRepository)
    private readonly userTasks: UserTaskRepository,
    @inject(TaskServiceBindings.WORKFLOW_MANAGER, {optional: true})
    private readonly engine?: IWorkflowManager,
  ) {}

  /** Updates the matching tasks; a status change is copied to their open user tasks. */
  async updateTasks(data: Partial<Task>, where?: Where<Task>): Promise<Count> {
    const tx = await this.tasks.beginTransaction();
    try {
      let affected: string[] = [];
      if (data.status) {
        const matching = await this.tasks.find(
          {where, fields: {id: true}},
          {transaction: tx},
        );
        affected = matching.map(t => t.id!);
      }
      const count = await this.tasks.updateAll(
        data as DataObject<Task>,
        where,
        {transaction: tx},
      );
      if (data.status && affected.length) {
        await this.userTasks.updateAll(
          {status: data.status} as unknown as DataObject<UserTask>,
          {taskId: {inq: affected}, status: {neq: UserTaskStatus.Completed}},
          {transaction: tx},
        );
      }
      await tx.commit();
      return count;
    } catch (err) {
      await tx.rollback();
      throw err;
    }
  }

  /**
   * Deletes the matching tasks for real. With `cascade`, their user tasks go
   * too and their workflow instances are deleted in the engine (best effort:
   * a failure there is logged, the rows are gone either way). Without it, a
   * task that still has user tasks is refused.
   */
  async deleteTasks(
    where: Where<Task> | undefined,
    cascade: boolean,
  ): Promise<Count> {
    const tx = await this.tasks.beginTransaction();
    let doomed: Task[];
    try {
      doomed = await this.tasks.find({where}, {transaction: tx});
      const ids = doomed.map(t => t.id!);
      if (!ids.length) {
        await tx.commit();
        return {count: 0};
      }
      if (!cascade) {
        const {count} = await this.userTasks.count(
          {taskId: {inq: ids}},
          {transaction: tx},
        );
        if (count > 0) {
          throw new HttpErrors.Conflict(
            'Task has user tasks: delete them first, or delete with cascade=true.',
          );
        }
      }
      // Without cascade only soft-deleted user tasks are left to remove.
      await this.userTasks.deleteAllHard(
        {taskId: {inq: ids}},
        {transaction: tx},
      );
      await this.tasks.deleteAllHard({id: {inq: ids}}, {transaction: tx});
      await tx.commit();
    } catch (err) {
      await tx.rollback();
      throw err;
    }
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
        console.warn(
          `Task ${task.id}: could not delete workflow instance ${task.externalId}: ${(err as Error).message}`,
        );
      }
    }
  }
}
