import {BindingScope, injectable, service} from '@loopback/core';
import {repository} from '@loopback/repository';
import {CommandParameters, ICommand} from '../interfaces';
import {EventType, Source, TaskStatus} from '../models';
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
    const tx = await this.tasks.beginTransaction();
    const options = {transaction: tx};
    try {
      if (await this.ledger.claim(externalTask.id ?? '', this.topic, options)) {
        const task = await this.tasks.findById(taskId, undefined, options);
        await this.tasks.updateById(
          taskId,
          {status: TaskStatus.Completed, endDate: task.endDate ?? new Date()},
          options,
        );
        await this.outbox.add(
          {
            key: EventType.TaskCompleted,
            payload: {taskId},
            timestamp: Date.now(),
            source: Source.TaskService,
          },
          options,
        );
      }
      await tx.commit();
    } catch (err) {
      await tx.rollback();
      throw err;
    }
    this.outbox.relaySoon();
    await taskService.complete(externalTask);
  }
}
