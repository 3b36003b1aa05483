import {BindingKey, Constructor} from '@loopback/core';
import {
  EventFilter,
  ICommand,
  ICommandRunner,
  IEventProcessor,
  IIncomingConnector,
  IOutgoingConnector,
  IUserTaskService,
  IWorkflowManager,
} from './interfaces';
import {
  EventOutboxConfig,
  TaskServiceConfig,
  TaskUser,
  WorkflowServiceConfig,
} from './types';

const PREFIX = 'sf.task';

/**
 * Binding keys of `TaskServiceComponent`. The host binds the config, the
 * connectors and the commands; every other key has a default that a binding
 * made before the component is mounted replaces.
 */
export namespace TaskServiceBindings {
  /** `{useCustomSequence, useSequelize?}`; optional, default no custom sequence. */
  export const CONFIG = BindingKey.create<TaskServiceConfig>(
    `${PREFIX}.config`,
  );
  /** Where incoming events come from (Kafka, the HTTP trigger, ...). */
  export const INCOMING_CONNECTOR = BindingKey.create<IIncomingConnector>(
    `${PREFIX}.connector.incoming`,
  );
  /** Where the service's own events go (Kafka, webhooks, ...). */
  export const OUTGOING_CONNECTOR = BindingKey.create<IOutgoingConnector>(
    `${PREFIX}.connector.outgoing`,
  );
  /** The command classes, each subscribed on its topic while the app runs. */
  export const COMMANDS = BindingKey.create<Constructor<ICommand>[]>(
    `${PREFIX}.commands`,
  );
  /** Drops an incoming event before it is stored when it answers false; default: keep all. */
  export const EVENT_FILTER = BindingKey.create<EventFilter>(
    `${PREFIX}.event.filter`,
  );
  /** What an incoming event does; default `EventProcessorService`. */
  export const EVENT_PROCESSOR = BindingKey.create<IEventProcessor>(
    `${PREFIX}.event.processor`,
  );
  /** The user that background work (commands, incoming events) runs as. */
  export const SYSTEM_USER = BindingKey.create<TaskUser>(
    `${PREFIX}.user.system`,
  );
  /** Completes and records user tasks; default `UserTaskService`. */
  export const SUB_TASK_SERVICE = BindingKey.create<IUserTaskService>(
    `${PREFIX}.service.user-task`,
  );
  /**
   * A workflow engine of your own. When bound (before or after the
   * component is mounted) it replaces Camunda behind `WORKFLOW_MANAGER`;
   * bind its command runner at `COMMAND_RUNNER` too.
   */
  export const CUSTOM_BPMN_RUNNER = BindingKey.create<IWorkflowManager>(
    `${PREFIX}.runner.custom`,
  );
  /** The workflow engine behind `/workflows` and the commands: `CUSTOM_BPMN_RUNNER` if bound, else Camunda. */
  export const WORKFLOW_MANAGER = BindingKey.create<IWorkflowManager>(
    `${PREFIX}.workflow.manager`,
  );
  /** Hands the engine's work to the commands; default Camunda's external-task worker. */
  export const COMMAND_RUNNER = BindingKey.create<ICommandRunner>(
    `${PREFIX}.command.runner`,
  );
  /** How the outbox relay polls and backs off; optional. */
  export const OUTBOX_CONFIG = BindingKey.create<EventOutboxConfig>(
    `${PREFIX}.outbox.config`,
  );
}

/** The binding of the workflow-engine config (`{useCustomSequence, workflowEngineBaseUrl}`). */
export const ExportedWorkflowServiceBindingConfig =
  BindingKey.create<WorkflowServiceConfig>('sf.workflow.config');
