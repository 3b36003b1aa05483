import {
  BindingKey,
  Constructor,
  inject,
  injectable,
  BindingScope,
  Provider,
} from '@loopback/core';
import {CommandRunStore} from './command-run.store';
import {EventReceiptStore} from './event-receipt.store';
import {TaskSqlBindings} from './keys';
import {OutboxStore} from './outbox.store';
import {MySqlCommandRunStore} from './mysql/command-run.store';
import {MySqlEventReceiptStore} from './mysql/event-receipt.store';
import {MySqlOutboxStore} from './mysql/outbox.store';
import {MySqlTaskStartStore} from './mysql/task-start.store';
import {PostgresCommandRunStore} from './postgresql/command-run.store';
import {PostgresEventReceiptStore} from './postgresql/event-receipt.store';
import {PostgresOutboxStore} from './postgresql/outbox.store';
import {PostgresTaskStartStore} from './postgresql/task-start.store';
import {TaskStartStore} from './task-start.store';
import {SqlSession, sqlSessionOf, TaskDataSource} from './session';
import {SqlTransactions, TransactionRunner} from './transactions';
import {ByDialect} from './types';

/** A store written for one dialect, made on the SQL session of a datasource. */
export type SqlStoreClass<T> = new (session: SqlSession) => T;

/**
 * A provider of the store written for the dialect of the datasource at
 * `dataSourceKey`, made once (singleton).
 */
export function sqlStoreProvider<T>(
  implementations: ByDialect<SqlStoreClass<T>>,
  dataSourceKey: BindingKey<TaskDataSource> = TaskSqlBindings.TASK_DATASOURCE,
): Constructor<Provider<T>> {
  @injectable({scope: BindingScope.SINGLETON})
  class SqlStoreProvider implements Provider<T> {
    constructor(
      @inject(dataSourceKey) private readonly dataSource: TaskDataSource,
    ) {}

    value(): T {
      const session = sqlSessionOf(this.dataSource);
      const Store = implementations[session.dialect.name];
      return new Store(session);
    }
  }
  return SqlStoreProvider;
}

/** The outbox for the task datasource's dialect. */
export const OutboxStoreProvider = sqlStoreProvider<OutboxStore>({
  postgresql: PostgresOutboxStore,
  mysql: MySqlOutboxStore,
});

/** The command ledger for the task datasource's dialect. */
export const CommandRunStoreProvider = sqlStoreProvider<CommandRunStore>({
  postgresql: PostgresCommandRunStore,
  mysql: MySqlCommandRunStore,
});

/** The event receipts for the task datasource's dialect. */
export const EventReceiptStoreProvider = sqlStoreProvider<EventReceiptStore>({
  postgresql: PostgresEventReceiptStore,
  mysql: MySqlEventReceiptStore,
});

/** Pending task-workflow starts for the task datasource's dialect. */
export const TaskStartStoreProvider = sqlStoreProvider<TaskStartStore>({
  postgresql: PostgresTaskStartStore,
  mysql: MySqlTaskStartStore,
});

/** Transactions on the task datasource (the same on every dialect and ORM). */
export const TaskTransactionsProvider = sqlStoreProvider<TransactionRunner>({
  postgresql: SqlTransactions,
  mysql: SqlTransactions,
});

/** Transactions on the workflow datasource. */
export const WorkflowTransactionsProvider = sqlStoreProvider<TransactionRunner>(
  {postgresql: SqlTransactions, mysql: SqlTransactions},
  TaskSqlBindings.WORKFLOW_DATASOURCE,
);
