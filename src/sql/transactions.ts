import {Options} from '@loopback/repository';
import {SqlSession, sqlSessionOf, TaskDataSource} from './session';

/** Runs work in database transactions of one datasource. */
export interface TransactionRunner {
  /**
   * Runs `work` in one transaction, carried by the `options` it is given:
   * commits when it resolves, rolls back when it rejects, then runs
   * `onRollback` (to undo what no database rolls back, such as an engine
   * call) and rethrows.
   */
  run<T>(
    work: (options: Options) => Promise<T>,
    onRollback?: () => Promise<void>,
  ): Promise<T>;
  /**
   * Runs `work` inside the transaction of `options` so that its failure
   * undoes only its own writes and the transaction goes on.
   */
  savepoint<T>(options: Options, work: () => Promise<T>): Promise<T>;
}

/**
 * Transactions of a datasource, juggler or Sequelize, through its SQL
 * session: the `{transaction}` that `work` gets is the ORM's own, so the
 * repositories and the stores both run in it.
 */
export class SqlTransactions implements TransactionRunner {
  private readonly session: SqlSession;

  constructor(dataSource: TaskDataSource | SqlSession) {
    this.session = asSession(dataSource);
  }

  async run<T>(
    work: (options: Options) => Promise<T>,
    onRollback?: () => Promise<void>,
  ): Promise<T> {
    const transaction = await this.session.beginTransaction();
    let committing = false;
    try {
      const result = await work({transaction});
      committing = true;
      await transaction.commit();
      return result;
    } catch (err) {
      // A failed COMMIT has ended the transaction and released its
      // connection: a ROLLBACK would release it twice, which pg-pool throws.
      if (!committing) {
        // A connection that dropped fails the ROLLBACK too; the database
        // rolls back on its own then, and the first error is the one to report.
        await Promise.resolve(transaction.rollback()).catch(() => undefined);
      }
      await onRollback?.();
      throw err;
    }
  }

  savepoint<T>(options: Options, work: () => Promise<T>): Promise<T> {
    return withSavepoint(this.session, options, work);
  }
}

/** The transactions of a juggler datasource: the same as `SqlTransactions`, by its former name. */
export const JugglerTransactions = SqlTransactions;

function asSession(source: TaskDataSource | SqlSession): SqlSession {
  return 'dialect' in source && typeof source.execute === 'function'
    ? (source as SqlSession)
    : sqlSessionOf(source as TaskDataSource);
}

/**
 * `work` in the transaction of `options` when it has one, else in a
 * transaction of its own on `dataSource`: for stores whose one write is
 * several statements on databases without writable CTEs.
 */
export function inTransaction<T>(
  session: SqlSession,
  options: Options | undefined,
  work: (options: Options) => Promise<T>,
): Promise<T> {
  if (options?.transaction) return work(options);
  return new SqlTransactions(session).run(work);
}

/**
 * The database ended the whole transaction while `work` ran inside a
 * savepoint (MySQL rolls back the transaction of a deadlock victim, and its
 * savepoints with it): nothing more can be done in it.
 */
export class TransactionLostError extends Error {
  constructor(override readonly cause: unknown) {
    super(
      `The transaction was rolled back by the database: ${(cause as Error)?.message ?? cause}`,
    );
    this.name = 'TransactionLostError';
  }
}

let savepoints = 0;

/**
 * `work` behind a savepoint of the transaction in `options` (the statements
 * are the same in PostgreSQL and MySQL); without a transaction, just `work`.
 */
export async function withSavepoint<T>(
  source: TaskDataSource | SqlSession,
  options: Options | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (!options?.transaction) return work();
  const session = asSession(source);
  const name = `task_service_${++savepoints}`;
  await session.execute(`SAVEPOINT ${name}`, [], options);
  try {
    const result = await work();
    await session.execute(`RELEASE SAVEPOINT ${name}`, [], options);
    return result;
  } catch (err) {
    try {
      await session.execute(`ROLLBACK TO SAVEPOINT ${name}`, [], options);
    } catch {
      // The savepoint is gone with the transaction.
      throw new TransactionLostError(err);
    }
    throw err;
  }
}
