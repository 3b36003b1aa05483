import {Options} from '@loopback/repository';
import {randomUUID} from 'crypto';
import {IEvent} from '../../../../interfaces';
import {
  affectedCount,
  inTransaction,
  MYSQL,
  MYSQL_NEVER,
  mySqlPlaceholders,
  mySqlTuples,
  Row,
  rowsOf,
  SqlSession,
} from '../../../../sql';
import {orderingKeysOf, takeInOrder} from '../../../../utils';
import {
  ClientApp,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookDeliveryKey,
  WebhookSubscription,
} from '../../models';
import {WebhookDeliveryStatus} from '../../types';
import {
  AttemptOutcome,
  ClaimedDelivery,
  claimedDeliveryOf,
  statusOf,
  WebhookDeliveryStore,
} from '../webhook-delivery.store';

const DELIVERIES = MYSQL.tableOf(WebhookDelivery);
const ATTEMPTS = MYSQL.tableOf(WebhookDeliveryAttempt);
const SUBSCRIPTIONS = MYSQL.tableOf(WebhookSubscription);
const CLIENT_APPS = MYSQL.tableOf(ClientApp);
const KEYS = MYSQL.tableOf(WebhookDeliveryKey);

/** A delivery queued behind a claim's head on its key. */
interface FollowerCandidate {
  id: string;
  keyCount: number;
}

/** Attempts of one outcome, recorded in one statement. */
interface AttemptGroup {
  status: WebhookDeliveryStatus;
  statusCode: number | null;
  error: string | null;
  retryInMs: number;
  claims: ClaimedDelivery[];
}

/** The deliveries behind a failed one, and the time they now wait for. */
interface BehindMove {
  notBefore: unknown;
  behind: string[];
}

/** Pending, due, and held by no worker's claim (`d`: the deliveries). */
const CLAIMABLE = `d.status = 'pending' AND d.next_attempt_on <= UTC_TIMESTAMP(3)
  AND (d.locked_until IS NULL OR d.locked_until <= UTC_TIMESTAMP(3))`;

/**
 * When a delivery may go that comes after the undelivered deliveries `a`
 * (rows of one group) on its keys: never while one of them is dead (its
 * re-queue puts back every delivery behind it on its keys), else not
 * before the last of their next tries. One of them that waits itself (its
 * time is "never") sets no time: what holds it may share none of the keys.
 */
const NOT_BEFORE = (a: string) =>
  `CASE WHEN MAX(${a}.status = 'dead') = 1 THEN ${MYSQL_NEVER}
        ELSE MAX(CASE WHEN ${a}.next_attempt_on < ${MYSQL_NEVER}
                      THEN ${a}.next_attempt_on END) END`;

/**
 * Durable webhook delivery on MySQL 8 / MariaDB 10.6+, with the rules of
 * `PostgresWebhookDeliveryStore`: workers share the queue through
 * `FOR UPDATE SKIP LOCKED` and a time-limited claim; per receiver (client
 * app and url, hashed as `SHA2(client_app_id ' ' url)`), the deliveries of
 * one task go one at a time, in the order they were queued. With neither
 * CTEs that write nor `RETURNING`, each method is a short transaction of a
 * few statements where PostgreSQL has one. Times are UTC_TIMESTAMP(3), as
 * the columns' defaults.
 */
export class MySqlWebhookDeliveryStore implements WebhookDeliveryStore {
  constructor(private readonly sql: SqlSession) {}

  async subscribedKeys(
    keys: string[],
    options?: Options,
  ): Promise<Set<string>> {
    if (!keys.length) return new Set();
    const rows = rowsOf(
      await this.sql.execute(
        `SELECT DISTINCT s.\`key\`
           FROM ${SUBSCRIPTIONS} s
           JOIN ${CLIENT_APPS} c ON c.id = s.client_app_id AND NOT c.deleted
          WHERE s.\`key\` IN (${mySqlPlaceholders(keys)}) AND NOT s.deleted`,
        keys,
        options,
      ),
    );
    return new Set(rows.map(row => String(row.key)));
  }

  async enqueue(event: IEvent, options?: Options): Promise<number> {
    const keys = orderingKeysOf(event);
    const body = JSON.stringify(event);
    return inTransaction(this.sql, options, async tx => {
      const targets = rowsOf(
        await this.sql.execute(
          `SELECT s.id, s.client_app_id, s.url, s.\`key\`,
                  SHA2(CONCAT(s.client_app_id, ' ', s.url), 256) AS receiver
             FROM ${SUBSCRIPTIONS} s
             JOIN ${CLIENT_APPS} c ON c.id = s.client_app_id AND NOT c.deleted
            WHERE s.\`key\` = ? AND NOT s.deleted`,
          [event.key],
          tx,
        ),
      );
      for (const target of targets) {
        await this.queue(target, body, keys, tx);
      }
      return targets.length;
    });
  }

  /** One delivery to `target`, not before the undelivered one ahead of it on any of its keys. */
  private async queue(
    target: Row,
    body: string,
    keys: string[],
    options: Options,
  ): Promise<void> {
    const id = randomUUID();
    // Not before the latest undelivered delivery on each of its keys (its
    // next try, which those before it do not pass); never while the latest
    // or the first is dead (a dead delivery was tried, so it is first on
    // each of its keys): as on PostgreSQL, two reads by index per key, not
    // every delivery of the key. Read without locks: a worker recording
    // that one's failure at this moment cannot see this delivery yet, and
    // the next claim puts it back out of its range (see `claim`).
    const perKey = keys.map(
      () =>
        `SELECT (SELECT CASE WHEN d.status = 'dead' THEN ${MYSQL_NEVER}
                             WHEN d.next_attempt_on < ${MYSQL_NEVER}
                             THEN d.next_attempt_on END
                   FROM ${KEYS} e JOIN ${DELIVERIES} d ON d.id = e.delivery_id
                  WHERE e.receiver = ? AND e.ordering_key = ?
                  ORDER BY e.seq DESC
                  LIMIT 1) AS t,
                (SELECT f.status = 'dead'
                   FROM ${KEYS} fk JOIN ${DELIVERIES} f ON f.id = fk.delivery_id
                  WHERE fk.receiver = ? AND fk.ordering_key = ?
                  ORDER BY fk.seq
                  LIMIT 1) AS dead`,
    );
    const ahead = keys.length
      ? `(SELECT CASE WHEN MAX(dead) = 1 THEN ${MYSQL_NEVER} ELSE MAX(t) END
            FROM (${perKey.join(' UNION ALL ')}) k)`
      : 'NULL';
    const inserted = await this.sql.execute(
      `INSERT INTO ${DELIVERIES}
              (id, subscription_id, client_app_id, url, event_key, event,
               next_attempt_on)
       SELECT ?, ?, ?, ?, ?, ?,
              GREATEST(UTC_TIMESTAMP(3), COALESCE(${ahead}, UTC_TIMESTAMP(3)))`,
      [
        id,
        target.id,
        target.client_app_id,
        target.url,
        target.key,
        body,
        ...keys.flatMap(key => [target.receiver, key, target.receiver, key]),
      ],
      options,
    );
    if (!keys.length) return;
    // The AUTO_INCREMENT value of the insert: the delivery's seq.
    const seq = (inserted as {insertId: number}).insertId;
    await this.sql.execute(
      `INSERT INTO ${KEYS} (delivery_id, receiver, ordering_key, seq)
       VALUES ${mySqlTuples(keys, 4)}`,
      keys.flatMap(key => [id, target.receiver, key, seq]),
      options,
    );
  }

  async claim(
    limit: number,
    lockMs: number,
    perRun = 1,
  ): Promise<ClaimedDelivery[]> {
    const rows = await inTransaction(this.sql, undefined, async tx => {
      // Statements that read keys take no locks, where PostgreSQL has one
      // statement: the key test must read every key row. In a statement
      // with FOR UPDATE SKIP LOCKED, MariaDB materializes the NOT EXISTS as
      // part of the locking read, so it would skip the key rows another
      // worker's claim holds and take a delivery whose earlier one it did
      // not see. First the claimable heads, read without locks (one that
      // passes the key test keeps passing it: keys only go, and later
      // deliveries get a higher seq), then the deliveries queued behind
      // them, then all of those locked by primary key, skipping any another
      // worker holds.
      await this.putBackWaiting(tx);
      const candidates = rowsOf(
        await this.sql.execute(
          `SELECT d.id, d.seq,
                  (SELECT COUNT(*) FROM ${KEYS} c WHERE c.delivery_id = d.id) AS key_count,
                  (SELECT MIN(k.receiver) FROM ${KEYS} k WHERE k.delivery_id = d.id) AS receiver,
                  (SELECT MIN(k.ordering_key) FROM ${KEYS} k WHERE k.delivery_id = d.id) AS ordering_key
             FROM ${DELIVERIES} d
            WHERE ${CLAIMABLE}
              -- Tested row by row: as NOT EXISTS, MariaDB may make it
              -- NOT IN and materialize every row with an earlier one.
              AND (
                    SELECT 1 FROM ${KEYS} mine
                      JOIN ${KEYS} earlier
                        ON earlier.receiver = mine.receiver
                       AND earlier.ordering_key = mine.ordering_key
                       AND earlier.seq < mine.seq
                     WHERE mine.delivery_id = d.id
                    LIMIT 1) IS NULL
            ORDER BY d.next_attempt_on, d.seq
            LIMIT ?`,
          // Twice the heads wanted: another worker reading at the same
          // time finds the same ones first, and takes what its locks skip.
          [limit * 2],
          tx,
        ),
      );
      // Locked in their order, only as many heads at a time as are still
      // wanted: a statement locks every row of its list it can, and holds
      // them to the end of the claim.
      const headOf = new Map<string, string>();
      await takeInOrder(candidates, limit, heads =>
        this.lockRuns(heads, perRun, headOf, tx),
      );
      if (!headOf.size) return [];
      const chosen = [...headOf.keys()];
      // One token for the rows of this claim: `record` names the id too.
      const lockToken = randomUUID();
      await this.sql.execute(
        `UPDATE ${DELIVERIES}
            SET locked_until = TIMESTAMPADD(MICROSECOND, ? * 1000, UTC_TIMESTAMP(3)),
                lock_token = ?
          WHERE id IN (${mySqlPlaceholders(chosen)})`,
        [Math.round(lockMs), lockToken, ...chosen],
        tx,
      );
      const claimed = rowsOf(
        await this.sql.execute(
          `SELECT d.id, d.url, CAST(d.event AS CHAR) AS body, d.attempts,
                  d.total_attempts, d.lock_token, c.api_secret, d.seq
             FROM ${DELIVERIES} d
             JOIN ${CLIENT_APPS} c ON c.id = d.client_app_id
            WHERE d.id IN (${mySqlPlaceholders(chosen)})
            ORDER BY d.seq`,
          chosen,
          tx,
        ),
      );
      return claimed.map(row => ({...row, head: headOf.get(String(row.id))}));
    });
    return rows.map(claimedDeliveryOf);
  }

  /**
   * Locks `candidates` (heads) and the deliveries queued behind them,
   * skipping any another worker holds, and adds to `headOf` each locked
   * head and, behind it, its followers up to the first that another worker
   * holds, is not claimable, or has more than one key. Returns how many
   * heads it locked.
   */
  private async lockRuns(
    candidates: Row[],
    perRun: number,
    headOf: Map<string, string>,
    tx: Options,
  ): Promise<number> {
    const runs =
      perRun > 1
        ? await this.followersOf(candidates, perRun - 1, tx)
        : new Map<string, FollowerCandidate[]>();
    const wanted = [
      ...candidates.map(r => String(r.id)),
      ...[...runs.values()].flatMap(fs => fs.map(f => f.id)),
    ];
    const locked = new Set(
      rowsOf(
        await this.sql.execute(
          `SELECT d.id FROM ${DELIVERIES} d
            WHERE d.id IN (${mySqlPlaceholders(wanted)}) AND ${CLAIMABLE}
            FOR UPDATE SKIP LOCKED`,
          wanted,
          tx,
        ),
      ).map(r => String(r.id)),
    );
    let heads = 0;
    for (const candidate of candidates) {
      const head = String(candidate.id);
      if (!locked.has(head)) continue;
      heads++;
      headOf.set(head, head);
      for (const follower of runs.get(head) ?? []) {
        if (follower.keyCount !== 1 || !locked.has(follower.id)) break;
        headOf.set(follower.id, head);
      }
    }
    return heads;
  }

  /**
   * Behind each candidate head with a single key, the next `perRun`
   * deliveries to its receiver on that key, in order, with their number
   * of keys: read through the key index, without locks (while the head is
   * undelivered no claim can take them).
   */
  private async followersOf(
    candidates: Row[],
    perRun: number,
    options: Options,
  ): Promise<Map<string, FollowerCandidate[]>> {
    const heads = candidates.filter(c => Number(c.key_count) === 1);
    const runs = new Map<string, FollowerCandidate[]>();
    if (!heads.length) return runs;
    const rows = rowsOf(
      await this.sql.execute(
        heads
          .map(
            () =>
              `(SELECT ? AS head, b.delivery_id AS id, b.seq,
                       (SELECT COUNT(*) FROM ${KEYS} c
                         WHERE c.delivery_id = b.delivery_id) AS key_count
                  FROM ${KEYS} b
                 WHERE b.receiver = ? AND b.ordering_key = ? AND b.seq > ?
                 ORDER BY b.seq
                 LIMIT ?)`,
          )
          .join(' UNION ALL '),
        heads.flatMap(h => [
          String(h.id),
          h.receiver,
          h.ordering_key,
          h.seq,
          perRun,
        ]),
        options,
      ),
    );
    for (const row of rows.sort((a, b) => Number(a.seq) - Number(b.seq))) {
      const head = String(row.head);
      runs.set(head, [
        ...(runs.get(head) ?? []),
        {id: String(row.id), keyCount: Number(row.key_count)},
      ]);
    }
    return runs;
  }

  /**
   * Due deliveries that wait behind the first undelivered delivery of one
   * of their receiver's keys while that one cannot go (its next try is
   * later, or it is dead) get its time (never, while it is dead), so the
   * claims' range holds no delivery that cannot go. A delivery queued while
   * the one ahead of it failed (the worker recording the failure could not
   * see it yet) is the one this finds; usually there is none.
   *
   * As the outbox's (`MySqlOutboxStore`): from those first deliveries, few,
   * in that join order, not from every due delivery tested against every
   * earlier one of its keys (n²/2 rows on every claim for a backlog of n).
   */
  private async putBackWaiting(options: Options): Promise<void> {
    const waiting = rowsOf(
      await this.sql.execute(
        `SELECT STRAIGHT_JOIN d.id, ${NOT_BEFORE('a')} AS not_before
           FROM ${DELIVERIES} a
           JOIN ${KEYS} head ON head.delivery_id = a.id
           JOIN ${KEYS} mine
             ON mine.receiver = head.receiver
            AND mine.ordering_key = head.ordering_key
            AND mine.seq > head.seq
           JOIN ${DELIVERIES} d ON d.id = mine.delivery_id
          WHERE (a.status = 'dead'
                 OR (a.status = 'pending'
                     AND a.next_attempt_on > UTC_TIMESTAMP(3)))
            -- Tested row by row: as NOT EXISTS, MariaDB may make it
            -- NOT IN and materialize every row with an earlier one.
            AND (
                  SELECT 1 FROM ${KEYS} earlier
                   WHERE earlier.receiver = head.receiver
                     AND earlier.ordering_key = head.ordering_key
                     AND earlier.seq < head.seq
                  LIMIT 1) IS NULL
            AND d.status = 'pending' AND d.next_attempt_on <= UTC_TIMESTAMP(3)
          GROUP BY d.id
         HAVING not_before > UTC_TIMESTAMP(3)
          ORDER BY d.id`,
        [],
        options,
      ),
    );
    // In primary-key order, as `recordAll` locks the rows it moves.
    for (const row of waiting) {
      await this.sql.execute(
        `UPDATE ${DELIVERIES} SET next_attempt_on = ?
          WHERE id = ? AND status = 'pending' AND next_attempt_on < ?`,
        [row.not_before, row.id, row.not_before],
        options,
      );
    }
  }

  async release(claims: ClaimedDelivery[]): Promise<void> {
    // By claim token (one per claim), so one statement for a run.
    const byToken = new Map<string, string[]>();
    for (const claim of claims) {
      byToken.set(claim.lockToken, [
        ...(byToken.get(claim.lockToken) ?? []),
        claim.id,
      ]);
    }
    for (const [token, ids] of byToken) {
      await this.sql.execute(
        `UPDATE ${DELIVERIES} SET locked_until = NULL, lock_token = NULL
          WHERE id IN (${mySqlPlaceholders(ids)}) AND lock_token = ?`,
        [...ids, token],
      );
    }
  }

  async record(claim: ClaimedDelivery, outcome: AttemptOutcome): Promise<void> {
    await this.recordAll([{claim, outcome}]);
  }

  /**
   * In one transaction: one INSERT of the attempts, then one UPDATE per
   * outcome (the delivered ones with one status code are one outcome), each
   * row only while its claim holds. The delivered ones release their keys;
   * after a failure the deliveries behind it wait for its next try.
   */
  async recordAll(
    attempts: {claim: ClaimedDelivery; outcome: AttemptOutcome}[],
  ): Promise<void> {
    if (!attempts.length) return;
    await inTransaction(this.sql, undefined, async tx => {
      await this.sql.execute(
        `INSERT INTO ${ATTEMPTS}
                (delivery_id, attempt_no, status_code, error, duration_ms, worker)
         VALUES ${mySqlTuples(attempts, 6)}`,
        attempts.flatMap(({claim, outcome}) => [
          claim.id,
          claim.attemptNo,
          outcome.statusCode ?? null,
          outcome.error ?? null,
          Math.round(outcome.durationMs),
          outcome.worker,
        ]),
        tx,
      );
      const outcomes = new Map<string, AttemptGroup>();
      for (const {claim, outcome} of attempts) {
        const group: AttemptGroup = {
          status: statusOf(outcome),
          statusCode: outcome.statusCode ?? null,
          error: outcome.error ?? null,
          retryInMs:
            outcome.delivered || outcome.dead
              ? 0
              : Math.round(outcome.retryInMs),
          claims: [],
        };
        const name = JSON.stringify([
          group.status,
          group.statusCode,
          group.error,
          group.retryInMs,
        ]);
        const same = outcomes.get(name) ?? group;
        same.claims.push(claim);
        outcomes.set(name, same);
      }
      const moves: BehindMove[] = [];
      for (const group of outcomes.values()) {
        moves.push(...(await this.recordOutcome(group, tx)));
      }
      await this.moveBehind(moves, tx);
    });
  }

  /** The deliveries of one outcome, each while its claim holds. */
  private async recordOutcome(
    {status, statusCode, error, retryInMs, claims}: AttemptGroup,
    tx: Options,
  ): Promise<BehindMove[]> {
    const ids = claims.map(c => c.id);
    const recorded = await this.sql.execute(
      `UPDATE ${DELIVERIES}
          SET status = ?,
              attempts = attempts + 1,
              total_attempts = total_attempts + 1,
              last_status_code = ?,
              last_error = ?,
              next_attempt_on = TIMESTAMPADD(MICROSECOND, ? * 1000, UTC_TIMESTAMP(3)),
              delivered_on = CASE WHEN ? = 'delivered' THEN UTC_TIMESTAMP(3) END,
              locked_until = NULL,
              lock_token = NULL,
              modified_on = UTC_TIMESTAMP(3)
        WHERE id IN (${mySqlPlaceholders(ids)})
          AND (id, lock_token) IN (${mySqlTuples(claims, 2)})`,
      [
        status,
        statusCode,
        error,
        retryInMs,
        status,
        ...ids,
        ...claims.flatMap(c => [c.id, c.lockToken]),
      ],
      tx,
    );
    // The claims that were lost (expired, taken over by another worker)
    // changed nothing.
    const changed = affectedCount(recorded);
    if (!changed) return [];
    if (status === WebhookDeliveryStatus.Delivered) {
      // The receiver's next deliveries of these tasks may go. Keys of a
      // delivery someone else delivered are gone already.
      const delivered =
        changed === ids.length
          ? ids
          : rowsOf(
              await this.sql.execute(
                `SELECT id FROM ${DELIVERIES}
                  WHERE id IN (${mySqlPlaceholders(ids)}) AND status = 'delivered'`,
                ids,
                tx,
              ),
            ).map(r => String(r.id));
      if (delivered.length) {
        await this.sql.execute(
          `DELETE FROM ${KEYS} WHERE delivery_id IN (${mySqlPlaceholders(delivered)})`,
          delivered,
          tx,
        );
      }
      return [];
    }
    // Not delivered: the deliveries behind each wait for its next try (for
    // its re-queue, when it is dead).
    const moves: BehindMove[] = [];
    for (const claim of claims) {
      const [failed] = rowsOf(
        await this.sql.execute(
          `SELECT CASE WHEN status = 'dead' THEN ${MYSQL_NEVER}
                       ELSE next_attempt_on END AS not_before
             FROM ${DELIVERIES} WHERE id = ? AND status = ?`,
          [claim.id, status],
          tx,
        ),
      );
      if (!failed) continue;
      const behind = await this.behind(claim.id, tx);
      if (behind.length) moves.push({notBefore: failed.not_before, behind});
    }
    return moves;
  }

  /**
   * Moves the deliveries behind failed ones. Their rows are locked first,
   * all at once in primary-key order, as every other statement that
   * changes several of them does: the moves of several failures in one
   * transaction, each in its own order, could otherwise deadlock with a
   * claim putting back the same rows.
   */
  private async moveBehind(moves: BehindMove[], tx: Options): Promise<void> {
    if (!moves.length) return;
    const ids = [...new Set(moves.flatMap(m => m.behind))].sort();
    await this.sql.execute(
      `SELECT id FROM ${DELIVERIES}
        WHERE id IN (${mySqlPlaceholders(ids)})
        ORDER BY id
        FOR UPDATE`,
      ids,
      tx,
    );
    for (const {notBefore, behind} of moves) {
      await this.sql.execute(
        `UPDATE ${DELIVERIES} SET next_attempt_on = ?
          WHERE id IN (${mySqlPlaceholders(behind)}) AND status = 'pending'
            AND next_attempt_on < ?`,
        [notBefore, ...behind, notBefore],
        tx,
      );
    }
  }

  async requeueDead(id: string, clientAppId: string): Promise<boolean> {
    return inTransaction(this.sql, undefined, async tx => {
      const requeued = await this.sql.execute(
        `UPDATE ${DELIVERIES}
            SET status = 'pending', attempts = 0, next_attempt_on = UTC_TIMESTAMP(3),
                locked_until = NULL, lock_token = NULL, modified_on = UTC_TIMESTAMP(3)
          WHERE id = ? AND client_app_id = ? AND status = 'dead'`,
        [id, clientAppId],
        tx,
      );
      if (!affectedCount(requeued)) return false;
      // The deliveries held back behind it go back in line (the claim
      // still sends them only after it).
      const behind = await this.behind(id, tx);
      if (behind.length) {
        await this.sql.execute(
          `UPDATE ${DELIVERIES} SET next_attempt_on = UTC_TIMESTAMP(3)
            WHERE id IN (${mySqlPlaceholders(behind)}) AND status = 'pending'
              AND next_attempt_on > UTC_TIMESTAMP(3)`,
          behind,
          tx,
        );
      }
      return true;
    });
  }

  /**
   * The deliveries to the same receiver that come after delivery `id` on
   * one of its keys, read from the keys alone. The UPDATEs that move them
   * then lock just these rows by primary key: a multi-table UPDATE may
   * scan the deliveries and wait on rows other workers hold, which
   * deadlocks two workers recording failures at once.
   */
  private async behind(id: string, options: Options): Promise<string[]> {
    const rows = rowsOf(
      await this.sql.execute(
        `SELECT DISTINCT later.delivery_id AS id
           FROM ${KEYS} mine
           JOIN ${KEYS} later
             ON later.receiver = mine.receiver
            AND later.ordering_key = mine.ordering_key
            AND later.seq > mine.seq
          WHERE mine.delivery_id = ?`,
        [id],
        options,
      ),
    );
    return rows.map(r => String(r.id));
  }
}
