import {
  Constructor,
  Getter,
  inject,
  lifeCycleObserver,
  LifeCycleObserver,
  service,
} from '@loopback/core';
import {ICommand, ICommandRunner} from '../interfaces';
import {
  ExportedWorkflowServiceBindingConfig,
  TaskServiceBindings,
} from '../keys';
import {CommandExecutor} from '../services';
import {WorkflowServiceConfig} from '../types';

/**
 * Hands the bound commands to the command runner while the app runs, unless
 * the engine config says `startCommandWorkers: false`. All three are
 * resolved at start, so bindings made after the component was mounted count.
 */
@lifeCycleObserver('task-service')
export class CommandWorkersObserver implements LifeCycleObserver {
  private runner?: ICommandRunner;

  constructor(
    @inject.getter(TaskServiceBindings.COMMANDS)
    private readonly getCommands: Getter<Constructor<ICommand>[]>,
    @inject.getter(TaskServiceBindings.COMMAND_RUNNER)
    private readonly getRunner: Getter<ICommandRunner>,
    @service(CommandExecutor) private readonly executor: CommandExecutor,
    @inject.getter(ExportedWorkflowServiceBindingConfig, {optional: true})
    private readonly getEngineConfig: Getter<WorkflowServiceConfig | undefined>,
  ) {}

  async start(): Promise<void> {
    const engineConfig = await this.getEngineConfig();
    if (engineConfig?.startCommandWorkers === false) return;
    const commands = await this.getCommands();
    if (!commands.length) return;
    const runner = await this.getRunner();
    await runner.subscribe(await this.executor.subscriptionsFor(commands));
    this.runner = runner;
  }

  async stop(): Promise<void> {
    await this.runner?.unsubscribe();
    this.runner = undefined;
  }
}
