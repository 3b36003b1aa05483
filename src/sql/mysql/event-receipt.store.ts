import {Options} from '@loopback/repository';
import {SqlSession} from '../session';
import {EventReceipt, EventWorkflowRun} from '../../models';
import {EventReceiptStore} from '../event-receipt.store';
import {rowsOf} from '../rows';
import {MYSQL} from './dialect';

const RECEIPTS = MYSQL.tableOf(EventReceipt);
const RUNS = MYSQL.tableOf(EventWorkflowRun);

/**
 * Incoming-event receipts on MySQL: primary keys make each claim once. A
 * duplicate key fails only its own statement, not the transaction.
 */
export class MySqlEventReceiptStore implements EventReceiptStore {
  constructor(private readonly sql: SqlSession) {}

  async claim(
    sourceId: string,
    eventId: string,
    options: Options,
  ): Promise<boolean> {
    return this.insertOnce(
      `INSERT INTO ${RECEIPTS} (source_id, event_id) VALUES (?, ?)`,
      [sourceId, eventId],
      options,
    );
  }

  async eventIdOf(sourceId: string): Promise<string | undefined> {
    const [row] = rowsOf(
      await this.sql.execute(
        `SELECT event_id FROM ${RECEIPTS} WHERE source_id = ?`,
        [sourceId],
      ),
    );
    return row ? String(row.event_id) : undefined;
  }

  async claimStart(
    eventId: string,
    workflowKey: string,
    options: Options,
  ): Promise<boolean> {
    return this.insertOnce(
      `INSERT INTO ${RUNS} (event_id, workflow_key) VALUES (?, ?)`,
      [eventId, workflowKey],
      options,
    );
  }

  async recordStart(
    eventId: string,
    workflowKey: string,
    instanceId: string | undefined,
    options?: Options,
  ): Promise<void> {
    // VALUES(col): the value the row would have had (MariaDB has no row
    // alias; MySQL 8.0.20+ still takes it).
    await this.sql.execute(
      `INSERT INTO ${RUNS} (event_id, workflow_key, instance_id) VALUES (?, ?, ?)
       ON DUPLICATE KEY UPDATE instance_id = VALUES(instance_id)`,
      [eventId, workflowKey, instanceId ?? null],
      options,
    );
  }

  /** Runs an INSERT; false when the row's key was taken already. */
  private async insertOnce(
    sql: string,
    params: unknown[],
    options?: Options,
  ): Promise<boolean> {
    try {
      await this.sql.execute(sql, params, options);
      return true;
    } catch (err) {
      if (MYSQL.isUniqueViolation(err)) return false;
      throw err;
    }
  }
}
