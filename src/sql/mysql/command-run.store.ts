import {Options} from '@loopback/repository';
import {SqlSession} from '../session';
import {CommandRun} from '../../models';
import {CommandRunStore} from '../command-run.store';
import {MYSQL} from './dialect';

const COMMAND_RUNS = MYSQL.tableOf(CommandRun);

/**
 * The command ledger on MySQL: the primary key decides who does the work. A
 * duplicate key fails only its statement in InnoDB, so the transaction goes
 * on (INSERT IGNORE would also turn other errors into warnings).
 */
export class MySqlCommandRunStore implements CommandRunStore {
  constructor(private readonly sql: SqlSession) {}

  async claim(
    externalTaskId: string,
    topic: string,
    options: Options,
  ): Promise<boolean> {
    try {
      await this.sql.execute(
        `INSERT INTO ${COMMAND_RUNS} (external_task_id, topic) VALUES (?, ?)`,
        [externalTaskId, topic],
        options,
      );
      return true;
    } catch (err) {
      if (MYSQL.isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async release(externalTaskId: string, options: Options): Promise<void> {
    await this.sql.execute(
      `DELETE FROM ${COMMAND_RUNS} WHERE external_task_id = ?`,
      [externalTaskId],
      options,
    );
  }
}
