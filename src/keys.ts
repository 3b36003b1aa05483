import {BindingKey, Constructor} from '@loopback/core';
import {
  EventFilter,
  ICommand,
  IEventProcessor,
  IIncomingConnector,
  IOutgoingConnector,
  IUserTaskService,
  IWorkflowManager,
} from './interfaces';
import {EventOutboxConfig} from './services/event-outbox.service';
import {TaskServiceConfig, TaskUser, WorkflowServiceConfig} from './types';

const PREFIX = 'sf.task';

export namespace TaskServiceBindings {
  export const CONFIG = BindingKey.create<TaskServiceConfig>(
    `${PREFIX}.config`,
  );
  export const INCOMING_CONNECTOR = BindingKey.create<IIncomingConnector>(
    `${PREFIX}.connector.incoming`,
  );
  export const OUTGOING_CONNECTOR = BindingKey.create<IOutgoingConnector>(
    `${PREFIX}.connector.outgoing`,
  );
  export const COMMANDS = BindingKey.create<Constructor<ICommand>[]>(
    `${PREFIX}.commands`,
  );
  export const EVENT_FILTER = BindingKey.create<EventFilter>(
    `${PREFIX}.event.filter`,
  );
  export const EVENT_PROCESSOR = BindingKey.create<IEventProcessor>(
    `${PREFIX}.event.processor`,
  );
  export const SYSTEM_USER = BindingKey.create<TaskUser>(
    `${PREFIX}.user.system`,
  );
  export const SUB_TASK_SERVICE = BindingKey.create<IUserTaskService>(
    `${PREFIX}.service.user-task`,
  );
  /** A workflow engine of your own; when bound, it replaces Camunda. */
  export const CUSTOM_BPMN_RUNNER = BindingKey.create<IWorkflowManager>(
    `${PREFIX}.runner.custom`,
  );
  /** The workflow engine behind `/workflows` and the commands. */
  export const WORKFLOW_MANAGER = BindingKey.create<IWorkflowManager>(
    `${PREFIX}.workflow.manager`,
  );
  export const OUTBOX_CONFIG = BindingKey.create<EventOutboxConfig>(
    `${PREFIX}.outbox.config`,
  );
}

/** The binding of the workflow-engine config (`{useCustomSequence, workflowEngineBaseUrl}`). */
export const ExportedWorkflowServiceBindingConfig =
  BindingKey.create<WorkflowServiceConfig>('sf.workflow.config');
