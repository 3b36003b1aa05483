import {BindingScope, inject, injectable, service} from '@loopback/core';
import {AnyObject, DataObject, Options, repository} from '@loopback/repository';
import {
  CommandParameters,
  IUserTaskService,
  IWorkflowManager,
  SHARED_COMMAND,
  SharedCommand,
} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {
  EventType,
  Task,
  TaskPriority,
  TaskSeverity,
  TaskStatus,
} from '../models';
import {
  TaskRepository,
  TaskWorkflowRepository,
  UserTaskRepository,
} from '../repositories';
import {
  CommandLedger,
  EventOutbox,
  taskBusinessKey,
  WorkflowService,
} from '../services';
import {
  PendingTaskStart,
  TaskSqlBindings,
  TaskStartStore,
  TransactionRunner,
} from '../sql';
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
 * user tasks, and publishes `task-created`.
 *
 * In two steps, each done once per work item however often the engine
 * hands it over: the tasks commit first (with the starts they need, in
 * `task_starts`), so the first command of a task's workflow always finds
 * its task; then the workflows start, each with its task's business key,
 * and their instances, user tasks and `task-created` commit together while
 * the tasks stay locked, so nothing a task's workflow announces comes
 * before `task-created`. A retry after a crash in between finishes the
 * second step, finding by business key an instance whose start was not
 * recorded. A second step that fails is undone (instances, tasks and the
 * work item's claim), so the engine's retry creates the tasks once.
 */
@injectable({scope: BindingScope.TRANSIENT})
export class CreateTaskCommand implements SharedCommand {
  /** One instance runs every work item (see `SHARED_COMMAND`). */
  static readonly [SHARED_COMMAND] = true;
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
    @inject(TaskSqlBindings.TASK_START_STORE)
    private readonly starts: TaskStartStore,
    @inject(TaskSqlBindings.TASK_TRANSACTIONS)
    private readonly transactions: TransactionRunner,
    @repository(UserTaskRepository)
    private readonly userTaskRows: UserTaskRepository,
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
    @inject(TaskObservabilityBindings.METRICS, {optional: true})
    private readonly metrics?: TaskMetrics,
  ) {}

  execute(): Promise<Task[]> {
    return this.executeWith(this.parameters);
  }

  async executeWith({
    task: externalTask,
    taskService,
  }: CommandParameters): Promise<Task[]> {
    const workItem = externalTask.id ?? '';
    const values = readTaskValues(externalTask.variables.get('tasks'));
    // Step two runs when step one left workflows to start, or when it was
    // done before (this is a retry, and the earlier run may have stopped
    // between the two).
    const create = () =>
      this.ledger.once(workItem, this.topic, options =>
        this.createTasks(workItem, values, options),
      );
    const startLeft = async (step: CreatedTasks | undefined) =>
      step && !step.startsLeft
        ? undefined
        : this.startWorkflows(workItem, step === undefined);
    let step = await create();
    let announced = await startLeft(step);
    if (!step && !announced) {
      // Done by an earlier run, or undone by one that failed: a new claim
      // tells which.
      step = await create();
      if (step) announced = await startLeft(step);
    }
    const created = step?.tasks;
    if (created) {
      this.metrics?.tasksCreated.inc(created.length);
      addLogContext({taskIds: created.map(t => t.id)});
      this.logger.info({count: created.length}, 'Tasks created');
    }
    this.outbox.relaySoon();
    await taskService.complete(externalTask);
    return announced ?? created ?? [];
  }

  /**
   * Step one, in the transaction of the work item's claim: the tasks, and
   * the workflows they need. Tasks that need none are announced at once.
   */
  private async createTasks(
    workItem: string,
    values: DataObject<Task>[],
    options: Options,
  ): Promise<CreatedTasks> {
    const tasks = await this.tasks.createAll(values, options);
    // The workflows mapped to the tasks' keys, in one statement.
    const workflows = await this.starts.workflowsOf(
      tasks.map(task => task.key),
      options,
    );
    const starts: PendingTaskStart[] = tasks.map((task, taskIndex) => ({
      taskIndex,
      taskId: task.id!,
      workflowKey: workflows.get(task.key),
    }));
    const startsLeft = starts.some(s => s.workflowKey);
    if (startsLeft) {
      await this.starts.add(workItem, starts, options);
    } else {
      await this.announce(tasks, options);
    }
    return {tasks, startsLeft};
  }

  /**
   * Step two: starts the workflows of the work item's committed tasks,
   * records their instances and user tasks and announces `task-created`, in
   * one transaction. Returns the announced tasks; none when nothing was
   * left to start. `resumed`: an earlier run may have started some already.
   */
  private async startWorkflows(
    workItem: string,
    resumed: boolean,
  ): Promise<Task[] | undefined> {
    if (!(await this.starts.pendingOf(workItem)).length) return undefined;
    const startedHere: string[] = [];
    let announced: {task: Task; instanceId?: string}[] | undefined;
    try {
      announced = await this.transactions.run(async options => {
        // Another run of the same work item waits here, then finds nothing.
        const left = await this.starts.pendingOf(workItem, options);
        if (!left.length) return undefined;
        const done: {task: Task; instanceId?: string}[] = [];
        for (const start of left) {
          // Commands of the task's workflow that change the task (end-task,
          // completing a user task) wait for this commit, so task-created
          // goes out before anything they announce.
          await this.tasks.lockById(start.taskId, options);
          const task = await this.tasks.findOne(
            {where: {id: start.taskId}},
            options,
          );
          if (!task) continue; // deleted meanwhile
          if (!start.workflowKey) {
            done.push({task});
            continue;
          }
          const instance = await this.startOnce(
            task,
            start.workflowKey,
            resumed,
          );
          if (instance.fresh) startedHere.push(instance.id);
          task.externalId = instance.id;
          await this.tasks.updateById(
            task.id!,
            {externalId: instance.id},
            options,
          );
          await this.userTasks.updateList(task.id!, instance.id, options);
          done.push({task, instanceId: instance.id});
        }
        await this.announce(
          done.map(d => d.task),
          options,
        );
        await this.starts.clear(workItem, options);
        return done;
      });
    } catch (err) {
      await this.undo(workItem, startedHere, err as Error);
      throw err;
    }
    if (!announced) return undefined;
    // A workflow that reached a user task while the step was open was not
    // seen by the sync after its command (the task's instance was not
    // committed yet): record such user tasks now.
    for (const {task, instanceId} of announced) {
      if (!instanceId) continue;
      await this.userTasks
        .updateList(task.id!, instanceId)
        .catch(err =>
          this.logger.warn(
            {err, taskId: task.id, workflowInstanceId: instanceId},
            'create-tasks: recording the user tasks failed; the next step of its workflow, or the repair round of the command workers, records them',
          ),
        );
    }
    return announced.map(d => d.task);
  }

  /** The task's workflow instance: found by business key when a run before this one may have started it, else started. */
  private async startOnce(
    task: Task,
    workflowKey: string,
    resumed: boolean,
  ): Promise<{id: string; fresh: boolean}> {
    const businessKey = taskBusinessKey(task.id!);
    const found = resumed
      ? await this.workflows.findStarted(businessKey)
      : undefined;
    if (found) return {id: found.id, fresh: false};
    const instance = await this.workflows.start(
      workflowKey,
      {taskId: task.id},
      {businessKey},
    );
    return {id: instance.id, fresh: true};
  }

  private announce(tasks: Task[], options: Options): Promise<void> {
    return this.outbox.announce(
      EventType.TaskCreated,
      {createdTasks: tasks.map(t => t.toJSON())},
      options,
    );
  }

  /**
   * The second step failed: deletes the instances it started (and any an
   * earlier run started, by business key), the tasks and the work item's
   * claim, so the engine's retry creates the tasks afresh. If this fails
   * too, everything stays as the first step left it, and the retry finishes
   * the second step instead.
   */
  private async undo(
    workItem: string,
    startedHere: string[],
    cause: Error,
  ): Promise<void> {
    try {
      await this.transactions.run(async options => {
        const left = await this.starts.pendingOf(workItem, options);
        if (!left.length) return; // another run finished or undid it
        const instances = new Set(startedHere);
        for (const start of left) {
          if (!start.workflowKey) continue;
          const found = await this.workflows.findStarted(
            taskBusinessKey(start.taskId),
          );
          if (found) instances.add(found.id);
        }
        for (const id of instances) await this.engine.deleteInstance(id);
        const taskIds = left.map(s => s.taskId);
        await this.userTaskRows.deleteAllHard(
          {taskId: {inq: taskIds}},
          options,
        );
        await this.tasks.deleteAllHard({id: {inq: taskIds}}, options);
        await this.starts.clear(workItem, options);
        await this.ledger.release(workItem, options);
      });
    } catch (err) {
      this.logger.warn(
        {err, externalTaskId: workItem, cause: cause.message},
        'create-tasks: undoing the work item failed, so its retry finishes it instead',
      );
    }
  }
}

/** What step one committed: the tasks, and whether workflows wait to start. */
interface CreatedTasks {
  tasks: Task[];
  startsLeft: boolean;
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
