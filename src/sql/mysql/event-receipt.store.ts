import {Options} from '@loopback/repository';
import {randomUUID} from 'crypto';
import {SqlSession} from '../session';
import {
  Event,
  EventReceipt,
  EventWorkflow,
  EventWorkflowRun,
} from '../../models';
import {
  EventReceiptStore,
  IncomingEventToStore,
  StoredIncomingEvent,
} from '../event-receipt.store';
import {chunksOf} from '../../utils';
import {rowsOf} from '../rows';
import {inTransaction} from '../transactions';
import {MYSQL, mySqlPlaceholders, mySqlTuples} from './dialect';

const RECEIPTS = MYSQL.tableOf(EventReceipt);
const RUNS = MYSQL.tableOf(EventWorkflowRun);
const EVENTS = MYSQL.tableOf(Event);
const MAPPINGS = MYSQL.tableOf(EventWorkflow);

/** Rows per multi-row INSERT: well within the packet size and placeholder limits. */
const ROWS_PER_INSERT = 500;

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

  /**
   * Many events in one transaction: the source ids received before are
   * read first, the other events inserted in multi-row statements, then
   * their receipts. A receipt that another delivery committed meanwhile
   * fails its INSERT (after waiting for that delivery), and so the whole
   * transaction: the caller then stores the events one by one.
   */
  async storeAndMapAll(
    events: IncomingEventToStore[],
  ): Promise<StoredIncomingEvent[]> {
    if (!events.length) return [];
    const sourceIds = [
      ...new Set(
        events.flatMap(({sourceId}) =>
          sourceId === undefined ? [] : [sourceId],
        ),
      ),
    ];
    const keys = [...new Set(events.map(({event}) => event.key))];
    return inTransaction(this.sql, undefined, async options => {
      const received = new Set<string>();
      for (const chunk of chunksOf(sourceIds, ROWS_PER_INSERT)) {
        const rows = rowsOf(
          await this.sql.execute(
            `SELECT source_id FROM ${RECEIPTS}
              WHERE source_id IN (${mySqlPlaceholders(chunk)})`,
            chunk,
            options,
          ),
        );
        for (const row of rows) received.add(String(row.source_id));
      }
      // The first event of each source id not received before is stored.
      const ids = events.map(({sourceId}) => {
        if (sourceId === undefined) return randomUUID();
        if (received.has(sourceId)) return undefined;
        received.add(sourceId);
        return randomUUID();
      });
      const stored = events.flatMap((e, i) =>
        ids[i] === undefined ? [] : [{...e, id: ids[i]!}],
      );
      for (const chunk of chunksOf(stored, ROWS_PER_INSERT)) {
        await this.sql.execute(
          `INSERT INTO ${EVENTS}
             (id, \`key\`, description, source, payload, \`timestamp\`)
           VALUES ${mySqlTuples(chunk, 6)}`,
          chunk.flatMap(({id, event}) => [
            id,
            event.key,
            event.description ?? null,
            event.source ?? null,
            JSON.stringify(event.payload),
            event.timestamp,
          ]),
          options,
        );
      }
      const receipts = stored.filter(e => e.sourceId !== undefined);
      for (const chunk of chunksOf(receipts, ROWS_PER_INSERT)) {
        await this.sql.execute(
          `INSERT INTO ${RECEIPTS} (source_id, event_id)
           VALUES ${mySqlTuples(chunk, 2)}`,
          chunk.flatMap(({id, sourceId}) => [sourceId, id]),
          options,
        );
      }
      const mapped = new Map<string, string[]>();
      for (const chunk of chunksOf(keys, ROWS_PER_INSERT)) {
        const rows = rowsOf(
          await this.sql.execute(
            `SELECT event_key, workflow_key FROM ${MAPPINGS}
              WHERE event_key IN (${mySqlPlaceholders(chunk)}) AND NOT deleted
              ORDER BY created_on, id`,
            chunk,
            options,
          ),
        );
        for (const row of rows) {
          const key = String(row.event_key);
          mapped.set(key, [
            ...(mapped.get(key) ?? []),
            String(row.workflow_key),
          ]);
        }
      }
      return events.map(({event}, i) => ({
        id: ids[i],
        workflowKeys: mapped.get(event.key) ?? [],
      }));
    });
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
