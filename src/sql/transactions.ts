import {juggler, Options} from '@loopback/repository';
import {guardDroppedConnections} from './connections';

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

/** Transactions of a juggler datasource (`beginTransaction` on its connector). */
export class JugglerTransactions implements TransactionRunner {
  constructor(private readonly dataSource: juggler.DataSource) {
    guardDroppedConnections(dataSource);
  }

  async run<T>(
    work: (options: Options) => Promise<T>,
    onRollback?: () => Promise<void>,
  ): Promise<T> {
    guardDroppedConnections(this.dataSource);
    const transaction = await this.dataSource.beginTransaction({});
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
    return withSavepoint(this.dataSource, options, work);
  }
}

let savepoints = 0;

/**
 * `work` behind a savepoint of the transaction in `options` (the statements
 * are the same in PostgreSQL and MySQL); without a transaction, just `work`.
 */
export async function withSavepoint<T>(
  dataSource: juggler.DataSource,
  options: Options | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (!options?.transaction) return work();
  const name = `task_service_${++savepoints}`;
  await dataSource.execute(`SAVEPOINT ${name}`, [], options);
  try {
    const result = await work();
    await dataSource.execute(`RELEASE SAVEPOINT ${name}`, [], options);
    return result;
  } catch (err) {
    await dataSource.execute(`ROLLBACK TO SAVEPOINT ${name}`, [], options);
    throw err;
  }
}
