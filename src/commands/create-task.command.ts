import {BindingScope, inject, injectable, service} from '@loopback/core';
import {AnyObject, DataObject, repository} from '@loopback/repository';
import {
  CommandParameters,
  ICommand,
  IUserTaskService,
  IWorkflowManager,
} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {
  EventType,
  Task,
  TaskPriority,
  TaskSeverity,
  TaskStatus,
} from '../models';
import {TaskRepository, TaskWorkflowRepository} from '../repositories';
import {CommandLedger, EventOutbox, WorkflowService} from '../services';
import {TaskObservabilityBindings} from '../observability/keys';
import {addLogContext} from '../observability/log-context';
import {fallbackLogger} from '../observability/logger';
import type {TaskMetrics} from '../observability/metrics';
import type {TaskLogger} from '../observability/types';

/** The fields of a task that a workflow may set. */
const TASK_FIELDS = [
  'key',
  'name',
  'description',
  'status',
  'priority',
  'severity',
  'type',
  'startDate',
  'dueDate',
  'endDate',
  'assigneeId',
  'metadata',
] as const;

/**
 * Topic `create-tasks`: creates one task per entry of the process variable
 * `tasks` (`{values: [...]}`, `values` an array or a JSON string), starts the
 * workflow mapped to each task's key with `{taskId}`, records the pending
 * user tasks, and publishes `task-created` — all of it in one transaction,
 * so a failure leaves nothing behind and a retry does it once.
 */
@injectable({scope: BindingScope.TRANSIENT})
export class CreateTaskCommand implements ICommand {
  topic = 'create-tasks';
  parameters: CommandParameters;

  constructor(
    @repository(TaskRepository) private readonly tasks: TaskRepository,
    @repository(TaskWorkflowRepository)
    private readonly mappings: TaskWorkflowRepository,
    @service(WorkflowService) private readonly workflows: WorkflowService,
    @inject(TaskServiceBindings.SUB_TASK_SERVICE)
    private readonly userTasks: IUserTaskService,
    @inject(TaskServiceBindings.WORKFLOW_MANAGER)
    private readonly engine: IWorkflowManager,
    @service(EventOutbox) private readonly outbox: EventOutbox,
    @service(CommandLedger) private readonly ledger: CommandLedger,
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
    @inject(TaskObservabilityBindings.METRICS, {optional: true})
    private readonly metrics?: TaskMetrics,
  ) {}

  async execute(): Promise<Task[]> {
    const {task: externalTask, taskService} = this.parameters;
    const values = readTaskValues(externalTask.variables.get('tasks'));
    const started: string[] = [];
    const created = await this.ledger.once(
      externalTask.id ?? '',
      this.topic,
      async options => {
        const tasks = await this.tasks.createAll(values, options);
        for (const task of tasks) {
          const instanceId = await this.startTaskWorkflow(task, options);
          if (instanceId) started.push(instanceId);
        }
        await this.outbox.announce(
          EventType.TaskCreated,
          {createdTasks: tasks.map(t => t.toJSON())},
          options,
        );
        return tasks;
      },
      () => this.discardInstances(started),
    );
    if (created) {
      this.metrics?.tasksCreated.inc(created.length);
      addLogContext({taskIds: created.map(t => t.id)});
      this.logger.info(
        {count: created.length, taskWorkflowInstanceIds: started},
        'Tasks created',
      );
    }
    this.outbox.relaySoon();
    await taskService.complete(externalTask);
    return created ?? [];
  }

  /** Starts the workflow mapped to the task's key, if any; returns the instance id. */
  private async startTaskWorkflow(
    task: Task,
    options: AnyObject,
  ): Promise<string | undefined> {
    const mapping = await this.mappings.findOne(
      {where: {taskKey: task.key}},
      options,
    );
    if (!mapping) return undefined;
    const instance = await this.workflows.start(mapping.workflowKey, {
      taskId: task.id,
    });
    task.externalId = instance.id;
    await this.tasks.updateById(task.id!, {externalId: instance.id}, options);
    await this.userTasks.updateList(task.id!, instance.id, options);
    return instance.id;
  }

  /** The work rolled back: the instances started for it must not live on. */
  private async discardInstances(instanceIds: string[]) {
    for (const id of instanceIds) {
      try {
        await this.engine.deleteInstance(id);
      } catch (err) {
        this.logger.warn(
          {err, workflowInstanceId: id},
          'create-tasks: could not delete an instance it started, after a rollback',
        );
      }
    }
  }
}

/** The entries of `tasks.values`, checked and reduced to task fields. */
export function readTaskValues(variable: unknown): DataObject<Task>[] {
  let tasks = variable;
  if (typeof tasks === 'string') tasks = parseJson(tasks, 'tasks');
  if (!tasks || typeof tasks !== 'object') {
    throw new Error(
      'Process variable "tasks" is missing or not an object with "values".',
    );
  }
  let values = (tasks as AnyObject).values;
  if (typeof values === 'string') values = parseJson(values, 'tasks.values');
  if (!Array.isArray(values)) {
    throw new Error(
      '"tasks.values" must be an array of tasks (or a JSON string of one).',
    );
  }
  return values.map((entry: unknown, i: number) => {
    if (!entry || typeof entry !== 'object') {
      throw new Error(`tasks.values[${i}] is not an object.`);
    }
    const source = entry as AnyObject;
    for (const required of ['key', 'name']) {
      if (typeof source[required] !== 'string' || !source[required]) {
        throw new Error(`tasks.values[${i}] has no "${required}".`);
      }
    }
    checkEnum(
      source.status,
      Object.values(TaskStatus),
      `tasks.values[${i}].status`,
    );
    checkEnum(
      source.priority,
      Object.values(TaskPriority),
      `tasks.values[${i}].priority`,
    );
    checkEnum(
      source.severity,
      Object.values(TaskSeverity),
      `tasks.values[${i}].severity`,
    );
    const data: AnyObject = {};
    for (const field of TASK_FIELDS) {
      if (source[field] !== undefined && source[field] !== null)
        data[field] = source[field];
    }
    return data as DataObject<Task>;
  });
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`"${what}" is not valid JSON: ${(err as Error).message}`);
  }
}

function checkEnum(value: unknown, allowed: string[], what: string) {
  if (
    value !== undefined &&
    value !== null &&
    !allowed.includes(value as string)
  ) {
    throw new Error(`${what} must be one of ${allowed.join(', ')}.`);
  }
}
