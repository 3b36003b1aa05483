import {BindingScope, inject, injectable} from '@loopback/core';
import {juggler, Options} from '@loopback/repository';
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
}
