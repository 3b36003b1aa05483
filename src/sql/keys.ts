import {BindingKey} from '@loopback/core';
import {TaskDbSourceName, WorkflowServiceSourceName} from '../types';
import {CommandRunStore} from './command-run.store';
import {EventReceiptStore} from './event-receipt.store';
import {OutboxStore} from './outbox.store';
import {TaskStartStore} from './task-start.store';
import {TaskDataSource} from './session';
import {TransactionRunner} from './transactions';

const PREFIX = 'sf.task.sql';

/**
 * Binding keys of the service's SQL: its datasources, their transactions
 * and the stores that hold the service's own raw SQL. Each store is chosen
 * for the datasource's dialect by its provider (`sql/providers.ts`).
 */
export namespace TaskSqlBindings {
  /** The datasource of tasks, events, mappings and the outbox, bound by the host as `TaskDbSourceName`. */
  export const TASK_DATASOURCE = BindingKey.create<TaskDataSource>(
    `datasources.${TaskDbSourceName}`,
  );
  /** The datasource of workflows and their versions, bound by the host as `WorkflowServiceSourceName`. */
  export const WORKFLOW_DATASOURCE = BindingKey.create<TaskDataSource>(
    `datasources.${WorkflowServiceSourceName}`,
  );
  /** Transactions on the task datasource. */
  export const TASK_TRANSACTIONS = BindingKey.create<TransactionRunner>(
    `${PREFIX}.transactions.task`,
  );
  /** Transactions on the workflow datasource. */
  export const WORKFLOW_TRANSACTIONS = BindingKey.create<TransactionRunner>(
    `${PREFIX}.transactions.workflow`,
  );
  /** The outbox of outgoing events. */
  export const OUTBOX_STORE = BindingKey.create<OutboxStore>(
    `${PREFIX}.store.outbox`,
  );
  /** The ledger of engine work items whose command work is done. */
  export const COMMAND_RUN_STORE = BindingKey.create<CommandRunStore>(
    `${PREFIX}.store.command-runs`,
  );
  /** Receipts of incoming events and the workflows each started. */
  export const EVENT_RECEIPT_STORE = BindingKey.create<EventReceiptStore>(
    `${PREFIX}.store.event-receipts`,
  );
  /** Tasks committed by `create-tasks` whose workflows are still to start. */
  export const TASK_START_STORE = BindingKey.create<TaskStartStore>(
    `${PREFIX}.store.task-starts`,
  );
}
