import {BindingScope, injectable, service} from '@loopback/core';
import {repository} from '@loopback/repository';
import {CommandParameters, ICommand} from '../interfaces';
import {EventType, TaskStatus} from '../models';
import {TaskRepository} from '../repositories';
import {CommandLedger, EventOutbox} from '../services';

/**
 * Topic `end-task`, for the end event of a task's workflow: marks the task
 * (process variable `taskId`) completed and publishes `task-completed`, in
 * one transaction.
 */
@injectable({scope: BindingScope.TRANSIENT})
export class EndTaskCommand implements ICommand {
  topic = 'end-task';
  parameters: CommandParameters;

  constructor(
    @repository(TaskRepository) private readonly tasks: TaskRepository,
    @service(EventOutbox) private readonly outbox: EventOutbox,
    @service(CommandLedger) private readonly ledger: CommandLedger,
  ) {}

  async execute(): Promise<void> {
    const {task: externalTask, taskService} = this.parameters;
    const taskId = externalTask.variables.get('taskId');
    if (typeof taskId !== 'string' || !taskId) {
      throw new Error('Process variable "taskId" is missing.');
    }
    await this.ledger.once(externalTask.id ?? '', this.topic, async options => {
      const task = await this.tasks.findById(taskId, undefined, options);
      await this.tasks.updateById(
        taskId,
        {status: TaskStatus.Completed, endDate: task.endDate ?? new Date()},
        options,
      );
      await this.outbox.announce(EventType.TaskCompleted, {taskId}, options);
    });
    this.outbox.relaySoon();
    await taskService.complete(externalTask);
  }
}
