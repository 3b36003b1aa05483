import {Options} from '@loopback/repository';
import {SqlSession} from '../session';
import {
  Event,
  EventReceipt,
  EventWorkflow,
  EventWorkflowRun,
} from '../../models';
import {
  EventReceiptStore,
  IncomingEventRow,
  StoredIncomingEvent,
} from '../event-receipt.store';
import {rowsOf} from '../rows';
import {POSTGRESQL} from './dialect';

const RECEIPTS = POSTGRESQL.tableOf(EventReceipt);
const RUNS = POSTGRESQL.tableOf(EventWorkflowRun);
const EVENTS = POSTGRESQL.tableOf(Event);
const MAPPINGS = POSTGRESQL.tableOf(EventWorkflow);

/**
 * The receipt (with a source id) and the event go in one statement: the
 * event is inserted only when the receipt was, and the foreign key from the
 * receipt to the event is checked at the end of the statement.
 */
const STORE_AND_MAP = `
  WITH receipt AS (
    INSERT INTO ${RECEIPTS} (source_id, event_id)
    SELECT $6::varchar, gen_random_uuid() WHERE $6::varchar IS NOT NULL
    ON CONFLICT (source_id) DO NOTHING
    RETURNING event_id
  ), stored AS (
    INSERT INTO ${EVENTS} (id, key, description, source, payload, "timestamp")
    SELECT COALESCE((SELECT event_id FROM receipt), gen_random_uuid()),
           $1::varchar, $2::text, $3::varchar, $4::json, $5::bigint
     WHERE $6::varchar IS NULL OR EXISTS (SELECT 1 FROM receipt)
    RETURNING id
  )
  SELECT (SELECT id FROM stored) AS id,
         ARRAY(SELECT workflow_key FROM ${MAPPINGS}
                WHERE event_key = $1::varchar AND NOT deleted
                ORDER BY created_on, id) AS workflow_keys`;

/** Incoming-event receipts on PostgreSQL: primary keys make each claim once. */
export class PostgresEventReceiptStore implements EventReceiptStore {
  constructor(private readonly sql: SqlSession) {}

  async claim(
    sourceId: string,
    eventId: string,
    options: Options,
  ): Promise<boolean> {
    const rows = rowsOf(
      await this.sql.execute(
        `INSERT INTO ${RECEIPTS} (source_id, event_id) VALUES ($1, $2)
         ON CONFLICT (source_id) DO NOTHING RETURNING event_id`,
        [sourceId, eventId],
        options,
      ),
    );
    return rows.length > 0;
  }

  async storeAndMap(
    event: IncomingEventRow,
    sourceId?: string,
  ): Promise<StoredIncomingEvent> {
    const [row] = rowsOf(
      await this.sql.execute(STORE_AND_MAP, [
        event.key,
        event.description ?? null,
        event.source ?? null,
        JSON.stringify(event.payload),
        event.timestamp,
        sourceId ?? null,
      ]),
    );
    return {
      id: row?.id ? String(row.id) : undefined,
      workflowKeys: ((row?.workflow_keys as unknown[]) ?? []).map(String),
    };
  }

  async eventIdOf(sourceId: string): Promise<string | undefined> {
    const [row] = rowsOf(
      await this.sql.execute(
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
      await this.sql.execute(
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
    await this.sql.execute(
      `INSERT INTO ${RUNS} (event_id, workflow_key, instance_id)
       VALUES ($1, $2, $3)
       ON CONFLICT (event_id, workflow_key)
       DO UPDATE SET instance_id = EXCLUDED.instance_id`,
      [eventId, workflowKey, instanceId ?? null],
      options,
    );
  }
}
