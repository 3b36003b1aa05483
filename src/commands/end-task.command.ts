import {BindingScope, inject, injectable, service} from '@loopback/core';
import {repository} from '@loopback/repository';
import {
  CommandParameters,
  IUserTaskService,
  SHARED_COMMAND,
  SharedCommand,
} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {EventType, TaskStatus} from '../models';
import {TaskRepository} from '../repositories';
import {CommandLedger, EventOutbox} from '../services';
import {TaskObservabilityBindings} from '../observability/keys';
import {addLogContext} from '../observability/log-context';
import {fallbackLogger} from '../observability/logger';
import type {TaskMetrics} from '../observability/metrics';
import type {TaskLogger} from '../observability/types';

/**
 * Topic `end-task`, for the end event of a task's workflow: marks the task
 * (process variable `taskId`) completed and publishes `task-completed`, in
 * one transaction, after any `user-task-completed` still owed.
 */
@injectable({scope: BindingScope.TRANSIENT})
export class EndTaskCommand implements SharedCommand {
  /** One instance runs every work item (see `SHARED_COMMAND`). */
  static readonly [SHARED_COMMAND] = true;
  topic = 'end-task';
  parameters: CommandParameters;

  constructor(
    @repository(TaskRepository) private readonly tasks: TaskRepository,
    @service(EventOutbox) private readonly outbox: EventOutbox,
    @service(CommandLedger) private readonly ledger: CommandLedger,
    @inject(TaskServiceBindings.SUB_TASK_SERVICE)
    private readonly userTasks: IUserTaskService,
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
    @inject(TaskObservabilityBindings.METRICS, {optional: true})
    private readonly metrics?: TaskMetrics,
  ) {}

  execute(): Promise<void> {
    return this.executeWith(this.parameters);
  }

  async executeWith({
    task: externalTask,
    taskService,
  }: CommandParameters): Promise<void> {
    const taskId = externalTask.variables.get('taskId');
    if (typeof taskId !== 'string' || !taskId) {
      throw new Error('Process variable "taskId" is missing.');
    }
    addLogContext({taskId});
    const done = await this.ledger.once(
      externalTask.id ?? '',
      this.topic,
      async options => {
        // Waits for a user-task completion of this task still committing.
        await this.tasks.lockById(taskId, options);
        const task = await this.tasks.findById(taskId, undefined, options);
        if (task.externalId) {
          // A user task the engine finished without our record of it is
          // announced first: `task-completed` is the task's last event.
          await this.userTasks.settleFinished?.(
            taskId,
            task.externalId,
            options,
          );
        }
        await this.tasks.updateById(
          taskId,
          {status: TaskStatus.Completed, endDate: task.endDate ?? new Date()},
          options,
        );
        await this.outbox.announce(EventType.TaskCompleted, {taskId}, options);
        return true;
      },
    );
    if (done) {
      this.metrics?.tasksCompleted.inc();
      this.logger.info('Task completed');
    }
    this.outbox.relaySoon();
    await taskService.complete(externalTask);
  }
}
