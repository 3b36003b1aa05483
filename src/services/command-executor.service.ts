import {
  BindingScope,
  Constructor,
  Context,
  CoreBindings,
  inject,
  injectable,
  instantiateClass,
} from '@loopback/core';
import {asSystemUser} from '../auth/system-user';
import {CommandParameters, CommandSubscription, ICommand} from '../interfaces';
import {TaskObservabilityBindings} from '../observability/keys';
import {withLogContext} from '../observability/log-context';
import {fallbackLogger} from '../observability/logger';
import type {TaskMetrics} from '../observability/metrics';
import type {TaskLogger} from '../observability/types';
import {UserTaskSync} from './user-task-sync.service';

/**
 * How a bound command runs, whatever engine feeds it: each run gets a
 * context of its own in which the system user acts, and once the command
 * has done its work the user tasks its workflow instance reached are
 * recorded. The command runner (the engine's side) turns a failure into a
 * retry or an incident.
 */
@injectable({scope: BindingScope.SINGLETON})
export class CommandExecutor {
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
    await this.inSystemContext(`command-${topic}-${task.id}`, async ctx => {
      const instance = await instantiate(command, ctx);
      instance.parameters = parameters;
      await instance.execute();
      // The command is done; what follows must not report it as failed.
      try {
        const sync = await instantiateClass(UserTaskSync, ctx);
        await sync.afterStep(task.processInstanceId);
      } catch (err) {
        this.logger.warn(
          {err},
          'The command is done, but recording the user tasks it reached failed',
        );
      }
    });
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
