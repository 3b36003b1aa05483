import {
  BindingKey,
  Constructor,
  inject,
  injectable,
  BindingScope,
  Provider,
} from '@loopback/core';
import {juggler} from '@loopback/repository';
import {CommandRunStore} from './command-run.store';
import {forDialect} from './dialect';
import {EventReceiptStore} from './event-receipt.store';
import {TaskSqlBindings} from './keys';
import {OutboxStore} from './outbox.store';
import {PostgresCommandRunStore} from './postgresql/command-run.store';
import {PostgresEventReceiptStore} from './postgresql/event-receipt.store';
import {PostgresOutboxStore} from './postgresql/outbox.store';
import {PostgresTaskStartStore} from './postgresql/task-start.store';
import {TaskStartStore} from './task-start.store';
import {JugglerTransactions, TransactionRunner} from './transactions';
import {ByDialect} from './types';

/** A store written for one dialect, made on a datasource. */
export type SqlStoreClass<T> = new (dataSource: juggler.DataSource) => T;

/**
 * A provider of the store written for the dialect of the datasource at
 * `dataSourceKey`, made once (singleton).
 */
export function sqlStoreProvider<T>(
  implementations: ByDialect<SqlStoreClass<T>>,
  dataSourceKey: BindingKey<juggler.DataSource> = TaskSqlBindings.TASK_DATASOURCE,
): Constructor<Provider<T>> {
  @injectable({scope: BindingScope.SINGLETON})
  class SqlStoreProvider implements Provider<T> {
    constructor(
      @inject(dataSourceKey) private readonly dataSource: juggler.DataSource,
    ) {}

    value(): T {
      const Store = forDialect(this.dataSource, implementations);
      return new Store(this.dataSource);
    }
  }
  return SqlStoreProvider;
}

/** The outbox for the task datasource's dialect. */
export const OutboxStoreProvider = sqlStoreProvider<OutboxStore>({
  postgresql: PostgresOutboxStore,
});

/** The command ledger for the task datasource's dialect. */
export const CommandRunStoreProvider = sqlStoreProvider<CommandRunStore>({
  postgresql: PostgresCommandRunStore,
});

/** The event receipts for the task datasource's dialect. */
export const EventReceiptStoreProvider = sqlStoreProvider<EventReceiptStore>({
  postgresql: PostgresEventReceiptStore,
});

/** Pending task-workflow starts for the task datasource's dialect. */
export const TaskStartStoreProvider = sqlStoreProvider<TaskStartStore>({
  postgresql: PostgresTaskStartStore,
});

/** Transactions on the task datasource (juggler transactions work on every SQL connector). */
export const TaskTransactionsProvider = sqlStoreProvider<TransactionRunner>({
  postgresql: JugglerTransactions,
});

/** Transactions on the workflow datasource. */
export const WorkflowTransactionsProvider = sqlStoreProvider<TransactionRunner>(
  {postgresql: JugglerTransactions},
  TaskSqlBindings.WORKFLOW_DATASOURCE,
);
