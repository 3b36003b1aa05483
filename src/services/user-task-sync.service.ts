import {BindingScope, inject, injectable} from '@loopback/core';
import {repository, Where} from '@loopback/repository';
import {IUserTaskService, IWorkflowManager} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {Task, TaskStatus, UserTaskStatus} from '../models';
import {TaskRepository, UserTaskRepository} from '../repositories';

/**
 * Records the pending user tasks of a workflow instance that drives a task.
 * Run after every command: a workflow may reach a user task after a service
 * task, not only when it starts or after another user task.
 */
@injectable({scope: BindingScope.TRANSIENT})
export class UserTaskSync {
  constructor(
    @repository(TaskRepository) private readonly tasks: TaskRepository,
    @inject(TaskServiceBindings.SUB_TASK_SERVICE)
    private readonly userTasks: IUserTaskService,
    @repository(UserTaskRepository)
    private readonly userTaskRows: UserTaskRepository,
    @inject(TaskServiceBindings.WORKFLOW_MANAGER)
    private readonly engine: IWorkflowManager,
  ) {}

  /**
   * After a step of the instance: nothing to look for when the engine says
   * its definition holds no user task (most event workflows), else its
   * task's pending user tasks are recorded.
   */
  async afterStep(
    processInstanceId: string | undefined,
    processDefinitionId?: string,
  ): Promise<void> {
    if (!processInstanceId) return;
    if (
      processDefinitionId &&
      this.engine.definitionHasUserTasks &&
      !(await this.engine.definitionHasUserTasks(processDefinitionId))
    ) {
      return;
    }
    const owner = await this.tasks.findOne({
      where: {externalId: processInstanceId},
      fields: {id: true},
    });
    if (owner) await this.userTasks.updateList(owner.id!, processInstanceId);
  }

  /**
   * Records the user tasks that open tasks' workflows wait at but nobody
   * recorded: a step reached them in the engine, and the process died (or
   * the database failed) before it recorded them, so nobody would ever see
   * them. Looks at up to `limit` open tasks created before `before`, in id
   * order after the id `after`, and for those with no pending user task
   * asks the engine for its pending ones and records the missing ones (once
   * each, by the engine's id). Returns how many it recorded and the id to go
   * on after (undefined: it reached the end).
   */
  async repair(
    before: Date,
    limit: number,
    after?: string,
  ): Promise<{recorded: number; next?: string}> {
    const where: Where<Task>[] = [
      {status: {neq: TaskStatus.Completed}},
      {createdOn: {lt: before}},
    ];
    if (after) where.push({id: {gt: after}});
    const open = await this.tasks.find({
      where: {and: where},
      order: ['id ASC'],
      limit,
      fields: {id: true, externalId: true},
    });
    if (!open.length) return {recorded: 0};
    const waiting = new Set(
      (
        await this.userTaskRows.find({
          where: {
            taskId: {inq: open.map(t => t.id!)},
            status: UserTaskStatus.Pending,
          },
          fields: {taskId: true},
        })
      ).map(u => u.taskId),
    );
    let recorded = 0;
    for (const task of open) {
      // Without an instance yet: its create-tasks has not finished.
      if (!task.externalId || waiting.has(task.id!)) continue;
      recorded += (await this.userTasks.updateList(task.id!, task.externalId!))
        .length;
    }
    return {
      recorded,
      next: open.length === limit ? open[open.length - 1].id : undefined,
    };
  }
}
