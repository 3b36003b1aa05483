import {
  Constructor,
  Context,
  CoreBindings,
  Getter,
  inject,
  instantiateClass,
  lifeCycleObserver,
  LifeCycleObserver,
  service,
} from '@loopback/core';
import {asSystemUser} from '../auth/system-user';
import {ICommand, ICommandRunner} from '../interfaces';
import {
  ExportedWorkflowServiceBindingConfig,
  TaskServiceBindings,
} from '../keys';
import {TaskObservabilityBindings} from '../observability/keys';
import {fallbackLogger} from '../observability/logger';
import type {TaskLogger} from '../observability/types';
import {CommandExecutor, UserTaskSync} from '../services';
import {WorkflowServiceConfig} from '../types';

/** Open tasks one repair round looks at. */
const REPAIR_BATCH = 100;

/**
 * Hands the bound commands to the command runner while the app runs, unless
 * the engine config says `startCommandWorkers: false`. All three are
 * resolved at start, so bindings made after the component was mounted count.
 * While the workers run, it also records, every `userTaskRepairIntervalMs`,
 * the user tasks that a step reached but a crash kept from being recorded.
 */
@lifeCycleObserver('task-service')
export class CommandWorkersObserver implements LifeCycleObserver {
  private runner?: ICommandRunner;
  private repairTimer?: NodeJS.Timeout;
  private repairing?: Promise<void>;
  /** The id the next repair round goes on after. */
  private repairCursor?: string;

  constructor(
    @inject.getter(TaskServiceBindings.COMMANDS)
    private readonly getCommands: Getter<Constructor<ICommand>[]>,
    @inject.getter(TaskServiceBindings.COMMAND_RUNNER)
    private readonly getRunner: Getter<ICommandRunner>,
    @service(CommandExecutor) private readonly executor: CommandExecutor,
    @inject.getter(ExportedWorkflowServiceBindingConfig, {optional: true})
    private readonly getEngineConfig: Getter<WorkflowServiceConfig | undefined>,
    @inject(CoreBindings.APPLICATION_INSTANCE) private readonly app: Context,
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
  ) {}

  async start(): Promise<void> {
    const engineConfig = await this.getEngineConfig();
    if (engineConfig?.startCommandWorkers === false) return;
    const commands = await this.getCommands();
    if (!commands.length) return;
    const runner = await this.getRunner();
    await runner.subscribe(await this.executor.subscriptionsFor(commands));
    this.runner = runner;
    const interval = engineConfig?.userTaskRepairIntervalMs ?? 30_000;
    if (interval > 0) this.scheduleRepair(interval);
  }

  async stop(): Promise<void> {
    if (this.repairTimer) clearTimeout(this.repairTimer);
    this.repairTimer = undefined;
    await this.repairing;
    await this.runner?.unsubscribe();
    this.runner = undefined;
    await this.executor.release();
  }

  private scheduleRepair(intervalMs: number) {
    this.repairTimer = setTimeout(() => {
      this.repairing = this.repair(intervalMs).finally(() => {
        this.repairing = undefined;
        if (this.repairTimer) this.scheduleRepair(intervalMs);
      });
    }, intervalMs);
  }

  /** One round; tasks younger than an interval are still being worked. */
  private async repair(intervalMs: number): Promise<void> {
    let ctx: Context | undefined;
    try {
      // Rows it records name the system user, as a command's do.
      ctx = await asSystemUser(this.app, 'user-task-repair');
      const sync = await instantiateClass(UserTaskSync, ctx);
      const {recorded, next} = await sync.repair(
        new Date(Date.now() - intervalMs),
        REPAIR_BATCH,
        this.repairCursor,
      );
      this.repairCursor = next;
      if (recorded) {
        this.logger.warn(
          {recorded},
          'Recorded user tasks that a step reached but did not record (it crashed or failed after the engine moved on)',
        );
      }
    } catch (err) {
      this.logger.warn({err}, 'Looking for unrecorded user tasks failed');
    } finally {
      ctx?.close();
    }
  }
}
