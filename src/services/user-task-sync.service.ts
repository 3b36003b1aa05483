import {BindingScope, inject, injectable} from '@loopback/core';
import {repository} from '@loopback/repository';
import {IUserTaskService} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {TaskRepository} from '../repositories';

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
  ) {}

  async afterStep(processInstanceId: string | undefined): Promise<void> {
    if (!processInstanceId) return;
    const owner = await this.tasks.findOne({
      where: {externalId: processInstanceId},
      fields: {id: true},
    });
    if (owner) await this.userTasks.updateList(owner.id!, processInstanceId);
  }
}
