import {Options} from '@loopback/repository';
import {SqlSession} from '../session';
import {CommandRun} from '../../models';
import {CommandRunStore} from '../command-run.store';
import {rowsOf} from '../rows';
import {POSTGRESQL} from './dialect';

const COMMAND_RUNS = POSTGRESQL.tableOf(CommandRun);

/** The command ledger on PostgreSQL: the primary key decides who does the work. */
export class PostgresCommandRunStore implements CommandRunStore {
  constructor(private readonly sql: SqlSession) {}

  async claim(
    externalTaskId: string,
    topic: string,
    options: Options,
  ): Promise<boolean> {
    const rows = rowsOf(
      await this.sql.execute(
        `INSERT INTO ${COMMAND_RUNS} (external_task_id, topic) VALUES ($1, $2)
         ON CONFLICT (external_task_id) DO NOTHING RETURNING external_task_id`,
        [externalTaskId, topic],
        options,
      ),
    );
    return rows.length === 1;
  }

  async release(externalTaskId: string, options: Options): Promise<void> {
    await this.sql.execute(
      `DELETE FROM ${COMMAND_RUNS} WHERE external_task_id = $1`,
      [externalTaskId],
      options,
    );
  }
}
