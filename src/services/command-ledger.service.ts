import {BindingScope, inject, injectable} from '@loopback/core';
import {juggler, Options} from '@loopback/repository';
import {Transaction} from 'loopback-datasource-juggler';
import {TaskDbSourceName} from '../types';

/**
 * Remembers which external tasks a command has done its work for, inside
 * the transaction of that work: an engine retry of the same external task
 * (say its completion was lost) then finds it done and does not repeat it.
 */
@injectable({scope: BindingScope.SINGLETON})
export class CommandLedger {
  constructor(
    @inject(`datasources.${TaskDbSourceName}`)
    private readonly dataSource: juggler.DataSource,
  ) {}

  /**
   * Claims the external task for this transaction: true if its work is still
   * to do, false if a committed run did it already. A concurrent run of the
   * same external task waits here for the first one's transaction.
   */
  async claim(
    externalTaskId: string,
    topic: string,
    options: Options,
  ): Promise<boolean> {
    const rows = (await this.dataSource.execute(
      `INSERT INTO main.command_runs (external_task_id, topic) VALUES ($1, $2)
       ON CONFLICT (external_task_id) DO NOTHING RETURNING external_task_id`,
      [externalTaskId, topic],
      options,
    )) as unknown[];
    return rows.length === 1;
  }

  /**
   * Runs `work` in a transaction that also claims the external task; work
   * already committed for it (a retry) is not run again and gives
   * `undefined`. On failure the transaction rolls back, `onRollback` cleans
   * up what cannot roll back (engine calls), and the error goes on.
   */
  async once<T>(
    externalTaskId: string,
    topic: string,
    work: (options: Options) => Promise<T>,
    onRollback?: () => Promise<void>,
  ): Promise<T | undefined> {
    if (!externalTaskId) {
      throw new Error(`Command ${topic}: the external task has no id.`);
    }
    const tx = (await this.dataSource.beginTransaction({})) as Transaction;
    const options = {transaction: tx};
    try {
      const result = (await this.claim(externalTaskId, topic, options))
        ? await work(options)
        : undefined;
      await tx.commit();
      return result;
    } catch (err) {
      await tx.rollback();
      await onRollback?.();
      throw err;
    }
  }
}
