import {Options} from '@loopback/repository';
import {SqlSession} from '../session';
import {IEvent} from '../../interfaces';
import {OutboxEvent, OutboxEventKey} from '../../models';
import {orderingKeysOf} from '../../utils';
import {
  FollowerRun,
  OutboxEntry,
  OutboxFailure,
  OutboxStats,
  OutboxStore,
  ParkedOutboxEvent,
} from '../outbox.store';
import {Row, rowsOf} from '../rows';
import {POSTGRES_NEVER, POSTGRESQL} from './dialect';

const OUTBOX = POSTGRESQL.tableOf(OutboxEvent);
const KEYS = POSTGRESQL.tableOf(OutboxEventKey);

/** Neither published, parked nor discarded: the predicate of `idx_outbox_events_due`. */
const PENDING = `published_on IS NULL AND parked_on IS NULL AND discarded_on IS NULL`;

/**
 * The events still to publish that come after event `$1` on one of its
 * keys, as `behind` (a FROM list for an UPDATE of `OUTBOX behind`).
 */
const BEHIND = (event: string) => `
  JOIN ${KEYS} mine ON mine.event_id = ${event}
  JOIN ${KEYS} later
    ON later.ordering_key = mine.ordering_key AND later.seq > mine.seq`;

/**
 * The outbox on PostgreSQL; relays share the work through `FOR UPDATE SKIP
 * LOCKED`, and a relay's claim reads the first event of each key from
 * `idx_outbox_event_keys_order` (one pass over the keys), the due events that
 * may have no key from `idx_outbox_events_unkeyed`, and those candidates'
 * rows by primary key.
 *
 * So that the claim's range holds no event that waits behind another, a
 * waiting event's `available_on` is kept no earlier than the next try of the
 * one ahead of it (for ever while that one is parked): set when it is
 * added, moved when the one ahead fails, put back to now when the one ahead
 * is replayed or discarded. Only the claim's key test decides order; these
 * times just keep waiting rows out of its way.
 */
export class PostgresOutboxStore implements OutboxStore {
  constructor(private readonly sql: SqlSession) {}

  async add(event: IEvent, options?: Options): Promise<void> {
    await this.sql.execute(
      `WITH ahead AS (
         -- The latest unpublished event on each of its keys: not before
         -- its next try; never while a parked event shares the key (its
         -- replay or discard wakes what shares its keys). One that itself
         -- waits behind a parked event on another key passes no "never"
         -- on: that replay would not wake this one.
         SELECT max(CASE
                      -- A parked event is the first of its keys (it was
                      -- tried, so first on each; later ones come after),
                      -- so the first is tested, not every event of the key
                      -- (the latest, o, when parked, is that first).
                      WHEN (
                        SELECT f.parked_on IS NOT NULL FROM ${KEYS} fk
                          JOIN ${OUTBOX} f ON f.id = fk.event_id
                         WHERE fk.ordering_key = k.key
                         ORDER BY fk.seq
                         LIMIT 1) THEN ${POSTGRES_NEVER}
                      WHEN o.available_on >= ${POSTGRES_NEVER} THEN now()
                      ELSE o.available_on END) AS not_before
           FROM unnest($3::varchar[]) AS k(key)
           CROSS JOIN LATERAL (
             SELECT e.event_id FROM ${KEYS} e
              WHERE e.ordering_key = k.key
              ORDER BY e.seq DESC
              LIMIT 1) latest
           JOIN ${OUTBOX} o ON o.id = latest.event_id
       ), added AS (
         INSERT INTO ${OUTBOX} (key, event, available_on, key_count)
         SELECT $1, $2::json, GREATEST(now(), COALESCE(ahead.not_before, now())),
                cardinality($3::varchar[])
           FROM ahead
         RETURNING id, seq
       )
       INSERT INTO ${KEYS} (event_id, ordering_key, seq)
       SELECT added.id, k.key, added.seq
         FROM added CROSS JOIN unnest($3::varchar[]) AS k(key)`,
      [event.key, JSON.stringify(event), orderingKeysOf(event)],
      options,
    );
  }

  async claimDue(limit: number, options: Options): Promise<OutboxEntry[]> {
    // The candidates are the heads of the keys (the first row of each key,
    // one pass over the keys in idx_outbox_event_keys_order's order) and
    // the due events that may have no key (idx_outbox_events_unkeyed),
    // rather than every due event probed for an earlier one on its keys. (A
    // loose index scan, one descent per key, is faster still with few keys
    // but three times slower than this with one event per key.) An event is first on all its keys when it
    // heads as many keys as it was written with (key_count: its key rows
    // stay until it is published or discarded); one whose key_count is
    // unknown (NULL) gets the old test. By due time rather than seq: the
    // order between tasks is free, and the key test keeps each task's own.
    const rows = rowsOf(
      await this.sql.execute(
        `WITH head AS (
           SELECT DISTINCT ON (k.ordering_key) k.event_id FROM ${KEYS} k
            ORDER BY k.ordering_key, k.seq
         ), candidate AS (
           SELECT event_id AS id, count(*) AS heads FROM head GROUP BY event_id
           UNION ALL
           -- No key (an event with a NULL key_count that has keys comes
           -- from the heads, when it heads one).
           SELECT u.id, 0 FROM ${OUTBOX} u
            WHERE u.published_on IS NULL AND u.parked_on IS NULL
              AND u.discarded_on IS NULL
              AND (u.key_count IS NULL OR u.key_count = 0)
              AND u.available_on <= now()
              AND (u.key_count = 0 OR NOT EXISTS (
                     SELECT 1 FROM ${KEYS} x WHERE x.event_id = u.id))
         )
         SELECT o.id, o.event, o.attempts, o.last_attempt_on, o.seq
           FROM candidate c JOIN ${OUTBOX} o ON o.id = c.id
          WHERE o.published_on IS NULL AND o.parked_on IS NULL
            AND o.discarded_on IS NULL AND o.available_on <= now()
            AND CASE WHEN c.heads = 0 THEN true
                     WHEN o.key_count IS NOT NULL THEN c.heads = o.key_count
                     ELSE NOT EXISTS (
                            SELECT 1 FROM ${KEYS} mine
                              JOIN ${KEYS} earlier
                                ON earlier.ordering_key = mine.ordering_key
                               AND earlier.seq < mine.seq
                             WHERE mine.event_id = o.id) END
          ORDER BY o.available_on, o.seq
          LIMIT $1
          FOR UPDATE OF o SKIP LOCKED`,
        [limit],
        options,
      ),
    );
    return rows.map(entryOf);
  }

  async claimFollowers(
    runs: FollowerRun[],
    room: number,
    options: Options,
  ): Promise<string[]> {
    if (!runs.length || room <= 0) return [];
    // Read without row locks: while a relay holds the claimed event, the
    // events queued behind it on its key are nobody else's. No other claim
    // can take them (an earlier event of their key is unpublished), and
    // only a claim's holder fails or parks an event; a replay or discard
    // acts on a parked event, which stops the run. The runs are cut and
    // taken in turns here, so only the events taken come back, as ids: the
    // round reads their events page by page (readFollowers).
    const rows = rowsOf(
      await this.sql.execute(
        `WITH candidate AS (
           SELECT k.event_id, k.ordering_key, k.seq,
                  row_number() OVER (PARTITION BY k.ordering_key
                                     ORDER BY k.seq) AS turn
             FROM unnest($1::varchar[], $2::bigint[], $3::int[])
                    AS run(key, seq, lim)
             CROSS JOIN LATERAL (
               SELECT b.event_id, b.ordering_key, b.seq FROM ${KEYS} b
                WHERE b.ordering_key = run.key AND b.seq > run.seq
                ORDER BY b.seq
                LIMIT run.lim) k
         ), judged AS (
           -- Per key, the turn of the first event that is not due or
           -- concerns another task too (key_count; when unknown, its key
           -- rows): the run stops before it.
           SELECT c.event_id, c.ordering_key, c.turn,
                  min(CASE WHEN f.published_on IS NULL AND f.parked_on IS NULL
                            AND f.discarded_on IS NULL
                            AND f.available_on <= now()
                            AND COALESCE(f.key_count = 1, NOT EXISTS (
                                  SELECT 1 FROM ${KEYS} o
                                   WHERE o.event_id = c.event_id
                                     AND o.ordering_key <> c.ordering_key))
                           THEN NULL ELSE c.turn END)
                    OVER (PARTITION BY c.ordering_key) AS stop
             FROM candidate c JOIN ${OUTBOX} f ON f.id = c.event_id
         ), taken AS (
           SELECT event_id, ordering_key, turn FROM judged
            WHERE stop IS NULL OR turn < stop
            ORDER BY turn, ordering_key
            LIMIT $4
         )
         SELECT event_id FROM taken ORDER BY turn, ordering_key`,
        [
          runs.map(r => r.key),
          runs.map(r => r.seq),
          runs.map(r => r.limit),
          room,
        ],
        options,
      ),
    );
    return rows.map(row => String(row.event_id));
  }

  async readFollowers(ids: string[], options: Options): Promise<OutboxEntry[]> {
    if (!ids.length) return [];
    const rows = rowsOf(
      await this.sql.execute(
        `SELECT id, event, attempts, last_attempt_on, seq
           FROM ${OUTBOX} WHERE id = ANY($1::uuid[])`,
        [ids],
        options,
      ),
    );
    return inOrderOf(ids, rows.map(entryOf));
  }

  async markPublished(id: string, options: Options): Promise<void> {
    await this.sql.execute(
      `WITH published AS (
         UPDATE ${OUTBOX}
            SET published_on = now(), attempts = attempts + 1,
                last_attempt_on = now()
          WHERE id = $1
          RETURNING id
       )
       DELETE FROM ${KEYS} WHERE event_id IN (SELECT id FROM published)`,
      [id],
      options,
    );
  }

  async markPublishedAll(ids: string[], options: Options): Promise<void> {
    await this.sql.execute(
      `WITH published AS (
         UPDATE ${OUTBOX}
            SET published_on = now(), attempts = attempts + 1,
                last_attempt_on = now()
          WHERE id = ANY($1::uuid[])
          RETURNING id
       )
       DELETE FROM ${KEYS} WHERE event_id IN (SELECT id FROM published)`,
      [ids],
      options,
    );
  }

  async markFailed(
    id: string,
    failure: OutboxFailure,
    options: Options,
  ): Promise<void> {
    await this.sql.execute(
      `WITH failed AS (
         UPDATE ${OUTBOX}
            SET attempts = attempts + 1, last_error = $2,
                last_attempt_on = $4,
                available_on = now() + make_interval(secs => $3::double precision / 1000),
                parked_on = CASE WHEN $5::boolean THEN $4::timestamptz END
          WHERE id = $1
          RETURNING id, CASE WHEN parked_on IS NOT NULL THEN ${POSTGRES_NEVER}
                             ELSE available_on END AS not_before
       )
       -- The events behind it wait for its next try (for its replay or
       -- discard, when it is parked).
       UPDATE ${OUTBOX} behind
          SET available_on = f.not_before
         FROM failed f ${BEHIND('f.id')}
        WHERE behind.id = later.event_id AND behind.published_on IS NULL
          AND behind.parked_on IS NULL AND behind.discarded_on IS NULL
          AND behind.available_on < f.not_before`,
      [id, failure.error, failure.retryInMs, failure.attemptedOn, failure.park],
      options,
    );
  }

  async pendingStats(options?: Options): Promise<OutboxStats> {
    const [row] = rowsOf(
      await this.sql.execute(
        `SELECT count(*) FILTER (WHERE ${PENDING}) AS count,
                (EXTRACT(EPOCH FROM (now() - min(created_on) FILTER (WHERE ${PENDING}))) * 1000)::float8 AS oldest_age_ms,
                count(*) FILTER (WHERE parked_on IS NOT NULL) AS parked
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

  async listParked(
    limit: number,
    offset: number,
  ): Promise<ParkedOutboxEvent[]> {
    const rows = rowsOf(
      await this.sql.execute(
        `SELECT id, seq, key, event, attempts, last_error, created_on,
                last_attempt_on, parked_on
           FROM ${OUTBOX}
          WHERE parked_on IS NOT NULL
          ORDER BY seq
          LIMIT $1 OFFSET $2`,
        [limit, offset],
      ),
    );
    return rows.map(parkedOf);
  }

  async countParked(): Promise<number> {
    const [row] = rowsOf(
      await this.sql.execute(
        `SELECT count(*) AS n FROM ${OUTBOX} WHERE parked_on IS NOT NULL`,
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
    const [row] = rowsOf(
      await this.sql.execute(
        `WITH replayed AS (
           UPDATE ${OUTBOX}
              SET parked_on = NULL, attempts = 0, available_on = now()
            WHERE id = $1 AND parked_on IS NOT NULL
            RETURNING id
         ), ${resumedBehind('replayed')}
         SELECT count(*) AS n FROM replayed`,
        [id],
      ),
    );
    return Number(row?.n ?? 0) > 0;
  }

  async discardParked(id: string): Promise<boolean> {
    const [row] = rowsOf(
      await this.sql.execute(
        `WITH discarded AS (
           UPDATE ${OUTBOX}
              SET parked_on = NULL, discarded_on = now()
            WHERE id = $1 AND parked_on IS NOT NULL
            RETURNING id
         ), ${resumedBehind('discarded')}, released AS (
           DELETE FROM ${KEYS} WHERE event_id IN (SELECT id FROM discarded)
         )
         SELECT count(*) AS n FROM discarded`,
        [id],
      ),
    );
    return Number(row?.n ?? 0) > 0;
  }
}

/**
 * A CTE `resumed` that puts the events held back behind the event in CTE
 * `cte` back in line (the key test still publishes them after it).
 */
function resumedBehind(cte: string): string {
  return `resumed AS (
    UPDATE ${OUTBOX} behind
       SET available_on = now()
      FROM ${cte} r ${BEHIND('r.id')}
     WHERE behind.id = later.event_id AND behind.published_on IS NULL
       AND behind.parked_on IS NULL AND behind.discarded_on IS NULL
       AND behind.available_on > now()
  )`;
}

/** `entries` in the order of `ids`. */
function inOrderOf(ids: string[], entries: OutboxEntry[]): OutboxEntry[] {
  const byId = new Map(entries.map(e => [e.id, e]));
  return ids.flatMap(id => byId.get(id) ?? []);
}

function entryOf(row: Row): OutboxEntry {
  return {
    id: String(row.id),
    event: jsonOf(row.event),
    attempts: Number(row.attempts),
    lastAttemptOn: dateOrUndefined(row.last_attempt_on),
    seq: Number(row.seq),
  };
}

function jsonOf(value: unknown): IEvent {
  return (typeof value === 'string' ? JSON.parse(value) : value) as IEvent;
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
    event: jsonOf(row.event),
    attempts: Number(row.attempts),
    lastError: row.last_error === null ? undefined : String(row.last_error),
    createdOn: dateOrUndefined(row.created_on)!,
    lastAttemptOn: dateOrUndefined(row.last_attempt_on),
    parkedOn: dateOrUndefined(row.parked_on)!,
  };
}
