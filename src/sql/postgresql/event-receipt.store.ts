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
  IncomingEventToStore,
  StoredIncomingEvent,
} from '../event-receipt.store';
import {randomUUID} from 'crypto';
import {CallBatcher} from '../../utils';
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

/**
 * `STORE_AND_MAP` for many events: the events given by arrays (their ids
 * made by the caller), each stored unless its source id was received
 * before; returns the ids stored and the live mappings of their keys.
 * A source id appears at most once.
 */
const STORE_AND_MAP_ALL = `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::text[], $4::varchar[],
                         $5::text[], $6::bigint[], $7::varchar[])
      AS i(id, key, description, source, payload, ts, source_id)
  ), receipt AS (
    INSERT INTO ${RECEIPTS} (source_id, event_id)
    SELECT source_id, id FROM input WHERE source_id IS NOT NULL
    ON CONFLICT (source_id) DO NOTHING
    RETURNING event_id
  ), stored AS (
    INSERT INTO ${EVENTS} (id, key, description, source, payload, "timestamp")
    SELECT i.id, i.key, i.description, i.source, i.payload::json, i.ts
      FROM input i
     WHERE i.source_id IS NULL OR i.id IN (SELECT event_id FROM receipt)
    RETURNING id
  )
  SELECT ARRAY(SELECT id::text FROM stored) AS stored,
         (SELECT json_object_agg(event_key, workflow_keys) FROM (
            SELECT event_key,
                   array_agg(workflow_key ORDER BY created_on, id) AS workflow_keys
              FROM ${MAPPINGS}
             WHERE event_key IN (SELECT key FROM input) AND NOT deleted
             GROUP BY event_key) m) AS mappings`;

/**
 * Incoming-event receipts on PostgreSQL: primary keys make each claim once.
 * Events stored while another statement storing events runs go together
 * in the next one (`CallBatcher`): under load, one statement for many
 * events rather than one each.
 */
export class PostgresEventReceiptStore implements EventReceiptStore {
  private readonly storing = new CallBatcher<
    IncomingEventToStore,
    StoredIncomingEvent
  >(
    calls => this.storeAndMapAll(calls),
    ({event, sourceId}) => this.storeAndMapOne(event, sourceId),
  );

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

  storeAndMap(
    event: IncomingEventRow,
    sourceId?: string,
  ): Promise<StoredIncomingEvent> {
    return this.storing.call({event, sourceId});
  }

  private async storeAndMapOne(
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

  /**
   * Several events in one statement (so all or none of them). A source id
   * given twice is stored by its first event; the later ones find it
   * stored before. A source id another delivery is storing meanwhile
   * waits for it, then counts as stored before if that one commits.
   */
  async storeAndMapAll(
    calls: IncomingEventToStore[],
  ): Promise<StoredIncomingEvent[]> {
    if (!calls.length) return [];
    const seen = new Set<string>();
    const sent = calls.map(({sourceId}) => {
      const first = sourceId === undefined || !seen.has(sourceId);
      if (sourceId !== undefined) seen.add(sourceId);
      return first;
    });
    const rows = calls.filter((_, i) => sent[i]);
    const ids = rows.map(() => randomUUID());
    const column = <T>(f: (call: IncomingEventToStore) => T) => rows.map(f);
    const [row] = rowsOf(
      await this.sql.execute(STORE_AND_MAP_ALL, [
        ids,
        column(c => c.event.key),
        column(c => c.event.description ?? null),
        column(c => c.event.source ?? null),
        column(c => JSON.stringify(c.event.payload)),
        column(c => c.event.timestamp),
        column(c => c.sourceId ?? null),
      ]),
    );
    const stored = new Set(((row?.stored as unknown[]) ?? []).map(String));
    const mappings = (row?.mappings ?? {}) as Record<string, unknown[]>;
    let next = 0;
    return calls.map((call, i) => {
      const id = sent[i] ? ids[next++] : undefined;
      return {
        id: id !== undefined && stored.has(id) ? id : undefined,
        workflowKeys: (mappings[call.event.key] ?? []).map(String),
      };
    });
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
