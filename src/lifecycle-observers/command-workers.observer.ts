import {
  CoreBindings,
  inject,
  lifeCycleObserver,
  LifeCycleObserver,
  Context,
  instantiateClass,
} from '@loopback/core';
import {CamundaCommandWorker} from '../engines/camunda';
import {UserTaskSync} from '../services';
import {
  ExportedWorkflowServiceBindingConfig,
  TaskServiceBindings,
} from '../keys';
import {asSystemUser} from './incoming-events.observer';

/** Subscribes the bound commands as external-task workers while the app runs. */
@lifeCycleObserver('task-service')
export class CommandWorkersObserver implements LifeCycleObserver {
  private worker?: CamundaCommandWorker;

  constructor(
    @inject(CoreBindings.APPLICATION_INSTANCE) private readonly app: Context,
  ) {}

  /** The topics being worked on (empty when stopped). */
  get topics(): string[] {
    return this.worker?.topics ?? [];
  }

  async start(): Promise<void> {
    const commands =
      (await this.app.get(TaskServiceBindings.COMMANDS, {optional: true})) ??
      [];
    const config = await this.app.get(ExportedWorkflowServiceBindingConfig, {
      optional: true,
    });
    if (!commands.length) return;
    if (!config?.workflowEngineBaseUrl) {
      throw new Error(
        'Commands are bound but no workflow engine is configured: bind ExportedWorkflowServiceBindingConfig.',
      );
    }
    this.worker = new CamundaCommandWorker(
      config,
      commands,
      name => asSystemUser(this.app, name),
      async (task, ctx) =>
        (await instantiateClass(UserTaskSync, ctx)).afterStep(
          task.processInstanceId,
        ),
    );
    await this.worker.start();
  }

  async stop(): Promise<void> {
    await this.worker?.stop();
    this.worker = undefined;
  }
}
