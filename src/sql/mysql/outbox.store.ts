import {Options} from '@loopback/repository';
import {SqlSession} from '../session';
import {randomUUID} from 'crypto';
import {IEvent} from '../../interfaces';
import {OutboxEvent, OutboxEventKey} from '../../models';
import {chunksOf, orderingKeysOf, takeInOrder} from '../../utils';
import {
  FollowerRow,
  FollowerRun,
  OutboxEntry,
  OutboxFailure,
  OutboxStats,
  OutboxStore,
  ParkedOutboxEvent,
  takeRuns,
} from '../outbox.store';
import {parsedJson, Row, rowsOf} from '../rows';
import {inTransaction} from '../transactions';
import {MYSQL, MYSQL_NEVER, mySqlPlaceholders, mySqlTuples} from './dialect';

const OUTBOX = MYSQL.tableOf(OutboxEvent);
const KEYS = MYSQL.tableOf(OutboxEventKey);

/** Events whose payloads one statement reads by id. */
const READ_CHUNK = 1000;

/** Neither published, parked nor discarded: what `idx_outbox_events_due` leads with. */
const PENDING = `published_on IS NULL AND parked_on IS NULL AND discarded_on IS NULL`;

/** Still to publish, and its time has come (`o`: the outbox). */
const DUE = `o.published_on IS NULL AND o.parked_on IS NULL
  AND o.discarded_on IS NULL AND o.available_on <= UTC_TIMESTAMP(3)`;

/**
 * When an event may go that comes after the unpublished events `a` (rows of
 * one group) on its keys: never while one of them is parked (its replay or
 * discard puts back every event behind it on its keys), else not before
 * the last of their next tries. One of them that waits itself (its time is
 * "never") sets no time: what holds it may share none of the keys.
 */
const NOT_BEFORE = (a: string) =>
  `CASE WHEN MAX(${a}.parked_on IS NOT NULL) = 1 THEN ${MYSQL_NEVER}
        ELSE MAX(CASE WHEN ${a}.available_on < ${MYSQL_NEVER}
                      THEN ${a}.available_on END) END`;

/**
 * The outbox on MySQL 8 / MariaDB 10.6+: the same rules as on PostgreSQL
 * (`PostgresOutboxStore`), each write a few statements in one transaction
 * where PostgreSQL has one statement with CTEs. Relays share the work
 * through `FOR UPDATE SKIP LOCKED`, taken by primary key after the key test
 * read the keys without locks; rows are moved by primary key too, so two
 * relays never wait on each other's scans. Times are UTC_TIMESTAMP(3), as
 * the columns' defaults.
 */
export class MySqlOutboxStore implements OutboxStore {
  constructor(private readonly sql: SqlSession) {}

  async add(event: IEvent, options?: Options): Promise<void> {
    const keys = orderingKeysOf(event);
    const id = randomUUID();
    await inTransaction(this.sql, options, async tx => {
      // Not before the latest unpublished event on each of its keys (its
      // next try, which those before it do not pass); never while the
      // first is parked (a parked event was tried, so it is first on each
      // of its keys): as on PostgreSQL, two reads by index per key, not
      // every event of the key. Read without locks: a relay recording a
      // failure at this moment cannot see this event yet, and the next
      // claim puts it back out of its range.
      const perKey = keys.map(
        () =>
          `SELECT (SELECT CASE WHEN o.available_on < ${MYSQL_NEVER}
                               THEN o.available_on END
                     FROM ${KEYS} e JOIN ${OUTBOX} o ON o.id = e.event_id
                    WHERE e.ordering_key = ?
                    ORDER BY e.seq DESC
                    LIMIT 1) AS t,
                  (SELECT f.parked_on IS NOT NULL
                     FROM ${KEYS} fk JOIN ${OUTBOX} f ON f.id = fk.event_id
                    WHERE fk.ordering_key = ?
                    ORDER BY fk.seq
                    LIMIT 1) AS parked`,
      );
      const ahead = keys.length
        ? `(SELECT CASE WHEN MAX(parked) = 1 THEN ${MYSQL_NEVER} ELSE MAX(t) END
              FROM (${perKey.join(' UNION ALL ')}) k)`
        : 'NULL';
      const inserted = await this.sql.execute(
        `INSERT INTO ${OUTBOX} (id, \`key\`, event, available_on, key_count)
         SELECT ?, ?, ?, GREATEST(UTC_TIMESTAMP(3),
                                  COALESCE(${ahead}, UTC_TIMESTAMP(3))), ?`,
        [
          id,
          event.key,
          JSON.stringify(event),
          ...keys.flatMap(key => [key, key]),
          keys.length,
        ],
        tx,
      );
      if (!keys.length) return;
      // The AUTO_INCREMENT value of the insert: the event's seq.
      const seq = (inserted as {insertId: number}).insertId;
      await this.sql.execute(
        `INSERT INTO ${KEYS} (event_id, ordering_key, seq)
         VALUES ${mySqlTuples(keys, 3)}`,
        keys.flatMap(key => [id, key, seq]),
        tx,
      );
    });
  }

  async claimDue(limit: number, options: Options): Promise<OutboxEntry[]> {
    // Two statements, where PostgreSQL has one: the key test must read
    // every key row. In a statement with FOR UPDATE SKIP LOCKED, MariaDB
    // materializes the NOT EXISTS as part of the locking read, so it would
    // skip the key rows another relay's claim holds and take an event whose
    // earlier one it did not see. First the due events, read without locks
    // (an event that passes the key test keeps passing it: keys only go,
    // and later events get a higher seq); then those events locked, by
    // primary key, skipping any another relay holds.
    // By due time rather than seq: the order between tasks is free, and
    // the key test keeps each task's own.
    // Outside the round's transaction, a statement at a time: the rows it
    // moves may be another relay's followers (read without locks), and
    // holding them to the end of this round while that relay marks them
    // published, and this one its own, was a deadlock between the two.
    await this.putBackWaiting();
    // Twice the candidates wanted: another relay reading at the same time
    // finds the same ones first, and takes what this one's locks skip.
    const due = rowsOf(
      await this.sql.execute(
        `SELECT o.id FROM ${OUTBOX} o
          WHERE ${DUE}
            -- Tested row by row: as NOT EXISTS, MariaDB may make it
            -- NOT IN and materialize every row with an earlier one.
            AND (
                  SELECT 1 FROM ${KEYS} mine
                    JOIN ${KEYS} earlier
                      ON earlier.ordering_key = mine.ordering_key
                     AND earlier.seq < mine.seq
                   WHERE mine.event_id = o.id
                  LIMIT 1) IS NULL
          ORDER BY o.available_on, o.seq
          LIMIT ?`,
        [limit * 2],
        options,
      ),
    ).map(row => String(row.id));
    // Locked in their order, only as many at a time as are still wanted: a
    // statement locks every row of its list it can, and holds them to the
    // end of the round.
    const rows: Row[] = [];
    await takeInOrder(due, limit, async ids => {
      const locked = rowsOf(
        await this.sql.execute(
          `SELECT o.id, o.event, o.attempts, o.last_attempt_on, o.seq
             FROM ${OUTBOX} o
            WHERE o.id IN (${mySqlPlaceholders(ids)}) AND ${DUE}
            ORDER BY o.available_on, o.seq
            FOR UPDATE SKIP LOCKED`,
          ids,
          options,
        ),
      );
      rows.push(...locked);
      return locked.length;
    });
    return rows.map(entryOf);
  }

  async claimFollowers(
    runs: FollowerRun[],
    room: number,
    options: Options,
  ): Promise<string[]> {
    if (!runs.length || room <= 0) return [];
    // Read without row locks, as on PostgreSQL (see there): while a relay
    // holds the claimed event, the events queued behind it on its key are
    // nobody else's. The candidates come without their payloads; the runs
    // are cut and taken in turns here (readFollowers reads the events).
    const byKey = new Map(runs.map(r => [r.key, r]));
    const keys = [...byKey.keys()];
    // A key's rows from its claimed event on (MariaDB has no LATERAL to
    // start behind each): the claimed one, then its candidates.
    const reach = Math.max(...runs.map(r => r.limit)) + 1;
    const rows = rowsOf(
      await this.sql.execute(
        `SELECT b.event_id, b.ordering_key, b.seq,
                (f.published_on IS NULL AND f.parked_on IS NULL
                 AND f.discarded_on IS NULL
                 AND f.available_on <= UTC_TIMESTAMP(3)) AS due,
                (SELECT COUNT(*) FROM ${KEYS} c WHERE c.event_id = f.id) AS key_count
           FROM (SELECT k.event_id, k.ordering_key, k.seq,
                        ROW_NUMBER() OVER (PARTITION BY k.ordering_key
                                           ORDER BY k.seq) AS n
                   FROM ${KEYS} k
                  WHERE k.ordering_key IN (${mySqlPlaceholders(keys)})) b
           JOIN ${OUTBOX} f ON f.id = b.event_id
          WHERE b.n <= ?
          ORDER BY b.ordering_key, b.seq`,
        [...keys, reach],
        options,
      ),
    );
    const candidates: FollowerRow[] = [];
    const seen = new Map<string, number>();
    for (const row of rows) {
      const key = String(row.ordering_key);
      const run = byKey.get(key);
      // Behind the run's claimed event, within its limit.
      if (!run || Number(row.seq) <= run.seq) continue;
      const n = (seen.get(key) ?? 0) + 1;
      if (n > run.limit) continue;
      seen.set(key, n);
      candidates.push({
        entry: {id: String(row.event_id), seq: Number(row.seq)} as OutboxEntry,
        key,
        due: Number(row.due) === 1,
        keyCount: Number(row.key_count),
      });
    }
    return takeRuns(candidates, room).map(entry => entry.id);
  }

  async readFollowers(ids: string[], options: Options): Promise<OutboxEntry[]> {
    const read = new Map<string, OutboxEntry>();
    for (const chunk of chunksOf(ids, READ_CHUNK)) {
      for (const row of rowsOf(
        await this.sql.execute(
          `SELECT id, event, attempts, last_attempt_on, seq
             FROM ${OUTBOX} WHERE id IN (${mySqlPlaceholders(chunk)})`,
          chunk,
          options,
        ),
      )) {
        read.set(String(row.id), entryOf(row));
      }
    }
    return ids.flatMap(id => read.get(id) ?? []);
  }

  async markPublishedAll(ids: string[], options: Options): Promise<void> {
    if (!ids.length) return;
    await this.sql.execute(
      `UPDATE ${OUTBOX}
          SET published_on = UTC_TIMESTAMP(3), attempts = attempts + 1,
              last_attempt_on = UTC_TIMESTAMP(3)
        WHERE id IN (${mySqlPlaceholders(ids)})`,
      ids,
      options,
    );
    await this.sql.execute(
      `DELETE FROM ${KEYS} WHERE event_id IN (${mySqlPlaceholders(ids)})`,
      ids,
      options,
    );
  }

  /**
   * Due events that wait behind the first event of one of their keys while
   * that one cannot go (its next try is later, or it is parked) get its
   * time (never, while it is parked), so the claim's range holds no event
   * that cannot go. An event added while the one ahead of it failed (the
   * relay recording the failure could not see it yet) is the one this
   * finds; usually there is none.
   *
   * It starts from those first events, which are few (failed ones), and
   * joins in that order (STRAIGHT_JOIN: with statistics from before a
   * burst MariaDB started from the due events): tested against every
   * earlier event of their keys, a backlog of n due events on one key made
   * n²/2 rows on every claim (6.6 s a claim at 3,000). An event that waits
   * only behind a waiting event on another key keeps its time; the claim's
   * key test passes it by.
   */
  private async putBackWaiting(): Promise<void> {
    const waiting = rowsOf(
      await this.sql.execute(
        `SELECT STRAIGHT_JOIN o.id, ${NOT_BEFORE('a')} AS not_before
           FROM ${OUTBOX} a
           JOIN ${KEYS} head ON head.event_id = a.id
           JOIN ${KEYS} mine
             ON mine.ordering_key = head.ordering_key
            AND mine.seq > head.seq
           JOIN ${OUTBOX} o ON o.id = mine.event_id
          WHERE a.published_on IS NULL AND a.discarded_on IS NULL
            AND (a.parked_on IS NOT NULL OR a.available_on > UTC_TIMESTAMP(3))
            -- Tested row by row: as NOT EXISTS, MariaDB may make it
            -- NOT IN and materialize every row with an earlier one.
            AND (
                  SELECT 1 FROM ${KEYS} earlier
                   WHERE earlier.ordering_key = head.ordering_key
                     AND earlier.seq < head.seq
                  LIMIT 1) IS NULL
            AND ${DUE}
          GROUP BY o.id
         HAVING not_before > UTC_TIMESTAMP(3)`,
        [],
      ),
    );
    for (const row of waiting) {
      await this.sql.execute(
        `UPDATE ${OUTBOX} SET available_on = ?
          WHERE id = ? AND ${PENDING} AND available_on < ?`,
        [row.not_before, row.id, row.not_before],
      );
    }
  }

  async markPublished(id: string, options: Options): Promise<void> {
    await this.sql.execute(
      `UPDATE ${OUTBOX}
          SET published_on = UTC_TIMESTAMP(3), attempts = attempts + 1,
              last_attempt_on = UTC_TIMESTAMP(3)
        WHERE id = ?`,
      [id],
      options,
    );
    await this.sql.execute(
      `DELETE FROM ${KEYS} WHERE event_id = ?`,
      [id],
      options,
    );
  }

  async markFailed(
    id: string,
    failure: OutboxFailure,
    options: Options,
  ): Promise<void> {
    await this.sql.execute(
      `UPDATE ${OUTBOX}
          SET attempts = attempts + 1, last_error = ?, last_attempt_on = ?,
              available_on = TIMESTAMPADD(MICROSECOND, ? * 1000, UTC_TIMESTAMP(3)),
              parked_on = CASE WHEN ? THEN ? END
        WHERE id = ?`,
      [
        failure.error,
        failure.attemptedOn,
        Math.round(failure.retryInMs),
        failure.park,
        failure.attemptedOn,
        id,
      ],
      options,
    );
    // The events behind it wait for its next try (for its replay or
    // discard, when it is parked).
    const [failed] = rowsOf(
      await this.sql.execute(
        `SELECT CASE WHEN parked_on IS NOT NULL THEN ${MYSQL_NEVER}
                     ELSE available_on END AS not_before
           FROM ${OUTBOX} WHERE id = ?`,
        [id],
        options,
      ),
    );
    if (!failed) return;
    const behind = await this.behind(id, options);
    if (!behind.length) return;
    await this.sql.execute(
      `UPDATE ${OUTBOX} SET available_on = ?
        WHERE id IN (${mySqlPlaceholders(behind)}) AND ${PENDING}
          AND available_on < ?`,
      [failed.not_before, ...behind, failed.not_before],
      options,
    );
  }

  async listParked(
    limit: number,
    offset: number,
  ): Promise<ParkedOutboxEvent[]> {
    const rows = rowsOf(
      await this.sql.execute(
        `SELECT id, seq, \`key\`, event, attempts, last_error, created_on,
                last_attempt_on, parked_on
           FROM ${OUTBOX}
          WHERE parked_on IS NOT NULL
          ORDER BY seq
          LIMIT ? OFFSET ?`,
        [limit, offset],
      ),
    );
    return rows.map(parkedOf);
  }

  async countParked(): Promise<number> {
    const [row] = rowsOf(
      await this.sql.execute(
        `SELECT COUNT(*) AS n FROM ${OUTBOX} WHERE parked_on IS NOT NULL`,
      ),
    );
    return Number(row?.n ?? 0);
  }

  async oldestPending(): Promise<Date | undefined> {
    const [row] = rowsOf(
      await this.sql.execute(
        `SELECT created_on FROM ${OUTBOX} WHERE ${PENDING} ORDER BY seq LIMIT 1`,
      ),
    );
    return dateOrUndefined(row?.created_on);
  }

  async replayParked(id: string): Promise<boolean> {
    return inTransaction(this.sql, undefined, async tx => {
      const replayed = await this.sql.execute(
        `UPDATE ${OUTBOX}
            SET parked_on = NULL, attempts = 0, available_on = UTC_TIMESTAMP(3)
          WHERE id = ? AND parked_on IS NOT NULL`,
        [id],
        tx,
      );
      if (!affected(replayed)) return false;
      await this.resumeBehind(id, tx);
      return true;
    });
  }

  async discardParked(id: string): Promise<boolean> {
    return inTransaction(this.sql, undefined, async tx => {
      const discarded = await this.sql.execute(
        `UPDATE ${OUTBOX}
            SET parked_on = NULL, discarded_on = UTC_TIMESTAMP(3)
          WHERE id = ? AND parked_on IS NOT NULL`,
        [id],
        tx,
      );
      if (!affected(discarded)) return false;
      await this.resumeBehind(id, tx);
      await this.sql.execute(
        `DELETE FROM ${KEYS} WHERE event_id = ?`,
        [id],
        tx,
      );
      return true;
    });
  }

  async pendingStats(options?: Options): Promise<OutboxStats> {
    const [row] = rowsOf(
      await this.sql.execute(
        `SELECT COUNT(CASE WHEN parked_on IS NULL THEN 1 END) AS count,
                TIMESTAMPDIFF(MICROSECOND,
                              MIN(CASE WHEN parked_on IS NULL THEN created_on END),
                              UTC_TIMESTAMP(3)) / 1000 AS oldest_age_ms,
                COUNT(parked_on) AS parked
           FROM ${OUTBOX}
          WHERE published_on IS NULL AND discarded_on IS NULL`,
        [],
        options,
      ),
    );
    const age = row?.oldest_age_ms;
    return {
      count: Number(row?.count ?? 0),
      oldestAgeMs: age === null || age === undefined ? undefined : Number(age),
      parked: Number(row?.parked ?? 0),
    };
  }

  /**
   * The events still to publish that come after event `id` on one of its
   * keys, read from the keys alone. The UPDATEs that move them then lock
   * just these rows by primary key: a multi-table UPDATE may scan the
   * outbox and wait on the rows other relays hold, which deadlocks two
   * relays recording failures at once.
   */
  private async behind(id: string, options: Options): Promise<string[]> {
    const rows = rowsOf(
      await this.sql.execute(
        `SELECT DISTINCT later.event_id AS id
           FROM ${KEYS} mine
           JOIN ${KEYS} later
             ON later.ordering_key = mine.ordering_key AND later.seq > mine.seq
          WHERE mine.event_id = ?`,
        [id],
        options,
      ),
    );
    return rows.map(r => String(r.id));
  }

  /** Puts the events held back behind event `id` back in line (the key test still publishes them after it). */
  private async resumeBehind(id: string, options: Options): Promise<void> {
    const behind = await this.behind(id, options);
    if (!behind.length) return;
    await this.sql.execute(
      `UPDATE ${OUTBOX} SET available_on = UTC_TIMESTAMP(3)
        WHERE id IN (${mySqlPlaceholders(behind)}) AND ${PENDING}
          AND available_on > UTC_TIMESTAMP(3)`,
      behind,
      options,
    );
  }
}

/** Rows an UPDATE matched (the connector reports found rows). */
function affected(result: unknown): number {
  return (result as {affectedRows?: number}).affectedRows ?? 0;
}

function entryOf(row: Row): OutboxEntry {
  return {
    id: String(row.id),
    event: parsedJson<IEvent>(row.event),
    attempts: Number(row.attempts),
    lastAttemptOn: dateOrUndefined(row.last_attempt_on),
    seq: Number(row.seq),
  };
}

function dateOrUndefined(value: unknown): Date | undefined {
  if (value === null || value === undefined) return undefined;
  return value instanceof Date ? value : new Date(String(value));
}

function parkedOf(row: Row): ParkedOutboxEvent {
  return {
    id: String(row.id),
    seq: Number(row.seq),
    key: String(row.key),
    event: parsedJson<IEvent>(row.event),
    attempts: Number(row.attempts),
    lastError: row.last_error === null ? undefined : String(row.last_error),
    createdOn: dateOrUndefined(row.created_on)!,
    lastAttemptOn: dateOrUndefined(row.last_attempt_on),
    parkedOn: dateOrUndefined(row.parked_on)!,
  };
}
