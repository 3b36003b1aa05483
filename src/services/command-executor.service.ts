import {
  BindingScope,
  Constructor,
  Context,
  CoreBindings,
  inject,
  injectable,
  instantiateClass,
  ValueOrPromise,
} from '@loopback/core';
import {asSystemUser} from '../auth/system-user';
import {
  CommandParameters,
  CommandSubscription,
  ExternalTaskLike,
  ICommand,
  SHARED_COMMAND,
  SharedCommand,
} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {TaskObservabilityBindings} from '../observability/keys';
import {withLogContext} from '../observability/log-context';
import {fallbackLogger} from '../observability/logger';
import type {TaskMetrics} from '../observability/metrics';
import type {TaskLogger} from '../observability/types';
import {UserTaskService} from './user-task.service';
import {UserTaskSync} from './user-task-sync.service';

/** The key of the shared instances' system-user context. */
const SHARED_CONTEXT = Symbol('commands context');

/**
 * How a bound command runs, whatever engine feeds it: as the system user,
 * on the command's one shared instance when it is marked `SHARED_COMMAND`,
 * else on an instance resolved for the run in a context of its own; once
 * the command has done its work, the user tasks its workflow instance
 * reached are recorded. The command runner (the engine's side) turns a
 * failure into a retry or an incident.
 */
@injectable({scope: BindingScope.SINGLETON})
export class CommandExecutor {
  /**
   * What the shared runs use (see `shares`), each made once: the
   * system-user context (`SHARED_CONTEXT`), each shared command by its
   * class, and the user-task sync by `UserTaskSync`.
   */
  private readonly sharedValues = new Map<unknown, Promise<unknown>>();

  constructor(
    @inject(CoreBindings.APPLICATION_INSTANCE) private readonly app: Context,
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
    @inject(TaskObservabilityBindings.METRICS, {optional: true})
    private readonly metrics?: TaskMetrics,
  ) {}

  /** One subscription per command class, on the topic its instances name. */
  subscriptionsFor(
    commands: Constructor<ICommand>[],
  ): Promise<CommandSubscription[]> {
    return Promise.all(
      commands.map(async command => {
        const topic = await this.topicOf(command);
        return {
          topic,
          run: (parameters: CommandParameters) =>
            this.run(command, topic, parameters),
        };
      }),
    );
  }

  private async topicOf(command: Constructor<ICommand>): Promise<string> {
    return this.inSystemContext(`topic-of-${command.name}`, async ctx => {
      const instance = await instantiate(command, ctx);
      if (!instance.topic) {
        throw new Error(`Command ${command.name} has no topic.`);
      }
      return instance.topic;
    });
  }

  /**
   * One execution, timed and counted, in a log context that names the
   * topic, the external task and the workflow instance.
   */
  private run(
    command: Constructor<ICommand>,
    topic: string,
    parameters: CommandParameters,
  ): Promise<void> {
    const {task} = parameters;
    return withLogContext(
      {
        topic,
        externalTaskId: task.id,
        workflowInstanceId: task.processInstanceId,
      },
      async () => {
        const started = performance.now();
        let failed = true;
        try {
          await this.execute(command, topic, parameters);
          failed = false;
        } finally {
          const seconds = (performance.now() - started) / 1000;
          this.metrics?.commandRan(topic, seconds, failed);
          if (!failed) {
            this.logger.info(
              {durationMs: Math.round(seconds * 1000)},
              'Command completed',
            );
          }
        }
      },
    );
  }

  private async execute(
    command: Constructor<ICommand>,
    topic: string,
    parameters: CommandParameters,
  ): Promise<void> {
    const {task} = parameters;
    if (this.shares(command)) {
      const instance = await this.sharedCommand(command);
      await instance.executeWith(parameters);
      await this.afterStep(task, () => this.sharedUserTaskSync());
      return;
    }
    await this.inSystemContext(`command-${topic}-${task.id}`, async ctx => {
      const instance = await instantiate(command, ctx);
      instance.parameters = parameters;
      await instance.execute();
      await this.afterStep(task, () => instantiateClass(UserTaskSync, ctx));
    });
  }

  /** Records the user tasks the step reached; the command is done, so a failure here is only logged. */
  private async afterStep(
    task: ExternalTaskLike,
    sync: () => ValueOrPromise<UserTaskSync>,
  ): Promise<void> {
    try {
      await (
        await sync()
      ).afterStep(task.processInstanceId, task.processDefinitionId);
    } catch (err) {
      this.logger.warn(
        {err},
        'The command is done, but recording the user tasks it reached failed',
      );
    }
  }

  /**
   * Whether one instance of the command runs every work item: the class
   * says so itself (`SHARED_COMMAND`), and the user-task service it uses is
   * the service's own. Otherwise the command, with what it injects, is
   * resolved for each run in a context of its own, as a bound command
   * written for the original expects. Resolving a command with its
   * repositories and services for each work item cost about as much CPU as
   * the work itself.
   */
  private shares(command: Constructor<ICommand>): boolean {
    if (!Object.prototype.hasOwnProperty.call(command, SHARED_COMMAND)) {
      return false;
    }
    const userTasks = this.app.getBinding(
      TaskServiceBindings.SUB_TASK_SERVICE,
      {optional: true},
    );
    return userTasks?.valueConstructor === UserTaskService;
  }

  private sharedCommand(
    command: Constructor<ICommand>,
  ): Promise<SharedCommand> {
    return this.shared(command, () =>
      this.inSharedContext(
        ctx => instantiate(command, ctx) as Promise<SharedCommand>,
      ),
    );
  }

  private sharedUserTaskSync(): Promise<UserTaskSync> {
    return this.shared(UserTaskSync, () =>
      this.inSharedContext(ctx =>
        Promise.resolve(instantiateClass(UserTaskSync, ctx)),
      ),
    );
  }

  private async inSharedContext<T>(
    work: (ctx: Context) => Promise<T> | T,
  ): Promise<T> {
    const ctx = await this.shared(SHARED_CONTEXT, () =>
      asSystemUser(this.app, 'commands'),
    );
    return work(ctx);
  }

  /** The value kept under `key`, made by `make` the first time; a failed one is made again by the next call. */
  private shared<T>(key: unknown, make: () => Promise<T>): Promise<T> {
    let value = this.sharedValues.get(key) as Promise<T> | undefined;
    if (!value) {
      const made = make();
      this.sharedValues.set(key, (value = made));
      made.catch(() => {
        if (this.sharedValues.get(key) === made) this.sharedValues.delete(key);
      });
    }
    return value;
  }

  /**
   * Drops the shared instances and closes their context (the command
   * runner has stopped): a later start resolves them again, so bindings
   * changed meanwhile count.
   */
  async release(): Promise<void> {
    const ctx = this.sharedValues.get(SHARED_CONTEXT) as
      Promise<Context> | undefined;
    this.sharedValues.clear();
    (await ctx?.catch(() => undefined))?.close();
  }

  private async inSystemContext<T>(
    name: string,
    work: (ctx: Context) => Promise<T>,
  ): Promise<T> {
    const ctx = await asSystemUser(this.app, name);
    try {
      return await work(ctx);
    } finally {
      ctx.close();
    }
  }
}

/**
 * A command instance in `ctx`. The context is also its first constructor
 * argument: commands written for the original take it (`new Command(context)`).
 */
function instantiate(
  command: Constructor<ICommand>,
  ctx: Context,
): Promise<ICommand> {
  return Promise.resolve(instantiateClass(command, ctx, undefined, [ctx]));
}
