import {BindingScope, injectable} from '@loopback/core';
import {repository} from '@loopback/repository';
import {
  CommandParameters,
  ICommand,
  processVariables,
  TaskRepository,
} from 'loopback4-task-service';

/**
 * A sample custom command (topic `read-data`): loads the task named by the
 * process variable `taskId` into the process as the variable `task`, so a
 * gateway can branch on its fields.
 */
@injectable({scope: BindingScope.TRANSIENT})
export class ReadDataCommand implements ICommand {
  topic = 'read-data';
  parameters: CommandParameters;

  constructor(
    @repository(TaskRepository) private readonly tasks: TaskRepository,
  ) {}

  async execute(): Promise<void> {
    const {task: externalTask, taskService} = this.parameters;
    const taskId = externalTask.variables.get('taskId');
    if (typeof taskId !== 'string') {
      throw new Error('read-data needs the process variable "taskId".');
    }
    const task = await this.tasks.findById(taskId);
    await taskService.complete(
      externalTask,
      processVariables({task: task.toJSON()}),
    );
  }
}
