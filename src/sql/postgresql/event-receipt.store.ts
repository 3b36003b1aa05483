import {juggler, Options} from '@loopback/repository';
import {EventReceipt, EventWorkflowRun} from '../../models';
import {EventReceiptStore} from '../event-receipt.store';
import {rowsOf} from '../rows';
import {POSTGRESQL} from './dialect';

const RECEIPTS = POSTGRESQL.tableOf(EventReceipt);
const RUNS = POSTGRESQL.tableOf(EventWorkflowRun);

/** Incoming-event receipts on PostgreSQL: primary keys make each claim once. */
export class PostgresEventReceiptStore implements EventReceiptStore {
  constructor(private readonly dataSource: juggler.DataSource) {}

  async claim(
    sourceId: string,
    eventId: string,
    options: Options,
  ): Promise<boolean> {
    const rows = rowsOf(
      await this.dataSource.execute(
        `INSERT INTO ${RECEIPTS} (source_id, event_id) VALUES ($1, $2)
         ON CONFLICT (source_id) DO NOTHING RETURNING event_id`,
        [sourceId, eventId],
        options,
      ),
    );
    return rows.length > 0;
  }

  async eventIdOf(sourceId: string): Promise<string | undefined> {
    const [row] = rowsOf(
      await this.dataSource.execute(
        `SELECT event_id FROM ${RECEIPTS} WHERE source_id = $1`,
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
    const rows = rowsOf(
      await this.dataSource.execute(
        `INSERT INTO ${RUNS} (event_id, workflow_key) VALUES ($1, $2)
         ON CONFLICT (event_id, workflow_key) DO NOTHING RETURNING event_id`,
        [eventId, workflowKey],
        options,
      ),
    );
    return rows.length > 0;
  }

  async recordStart(
    eventId: string,
    workflowKey: string,
    instanceId: string | undefined,
    options?: Options,
  ): Promise<void> {
    await this.dataSource.execute(
      `INSERT INTO ${RUNS} (event_id, workflow_key, instance_id)
       VALUES ($1, $2, $3)
       ON CONFLICT (event_id, workflow_key)
       DO UPDATE SET instance_id = EXCLUDED.instance_id`,
      [eventId, workflowKey, instanceId ?? null],
      options,
    );
  }
}
