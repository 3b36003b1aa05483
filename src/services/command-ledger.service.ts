import {BindingScope, inject, injectable} from '@loopback/core';
import {Options} from '@loopback/repository';
import {CommandRunStore, TaskSqlBindings, TransactionRunner} from '../sql';

/**
 * Remembers which engine work items (external tasks) a command has done its
 * work for, inside the transaction of that work: an engine retry of the same
 * item (say its completion was lost) then finds it done and does not repeat it.
 */
@injectable({scope: BindingScope.SINGLETON})
export class CommandLedger {
  constructor(
    @inject(TaskSqlBindings.COMMAND_RUN_STORE)
    private readonly runs: CommandRunStore,
    @inject(TaskSqlBindings.TASK_TRANSACTIONS)
    private readonly transactions: TransactionRunner,
  ) {}

  /**
   * Runs `work` in a transaction that also claims the work item; work
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
    return this.transactions.run(
      async options =>
        (await this.runs.claim(externalTaskId, topic, options))
          ? work(options)
          : undefined,
      onRollback,
    );
  }

  /**
   * Forgets, in the transaction of `options`, that the work item's work is
   * done: that work was undone, and a retry of the item must do it again.
   */
  release(externalTaskId: string, options: Options): Promise<void> {
    return this.runs.release(externalTaskId, options);
  }
}
