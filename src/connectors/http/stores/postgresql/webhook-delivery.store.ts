import {Options} from '@loopback/repository';
import {IEvent} from '../../../../interfaces';
import {POSTGRES_NEVER, POSTGRESQL, rowsOf, SqlSession} from '../../../../sql';
import {orderingKeysOf} from '../../../../utils';
import {
  ClientApp,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookDeliveryKey,
  WebhookSubscription,
} from '../../models';
import {
  AttemptOutcome,
  ClaimedDelivery,
  claimedDeliveryOf,
  statusOf,
  WebhookDeliveryStore,
} from '../webhook-delivery.store';

const DELIVERIES = POSTGRESQL.tableOf(WebhookDelivery);
const ATTEMPTS = POSTGRESQL.tableOf(WebhookDeliveryAttempt);
const SUBSCRIPTIONS = POSTGRESQL.tableOf(WebhookSubscription);
const CLIENT_APPS = POSTGRESQL.tableOf(ClientApp);
const KEYS = POSTGRESQL.tableOf(WebhookDeliveryKey);

/** The receiver of a delivery: hex SHA-256 of its client app id and url. */
const RECEIVER = (alias: string) =>
  `encode(sha256(convert_to(${alias}.client_app_id::text || ' ' || ${alias}.url, 'UTF8')), 'hex')`;

/**
 * Durable webhook delivery on PostgreSQL: workers share the queue through
 * `FOR UPDATE SKIP LOCKED` and a time-limited claim. Per receiver (client
 * app and url), the deliveries of one task go one at a time, in the order
 * they were queued: a delivery is claimed only when no earlier delivery to
 * the same receiver sharing one of its ordering keys is undelivered
 * (`webhook_delivery_keys`, read through its indexes alone).
 *
 * So that the claim's scan of due rows does not wade through deliveries
 * that wait behind another, a waiting delivery's `next_attempt_on` is kept
 * no earlier than the next try of the one ahead of it (for ever while that
 * one is dead): set when it is queued, moved when the one ahead fails, put
 * back to now when the one ahead is re-queued. Only the claim decides order;
 * these times just keep waiting rows out of its way.
 */
export class PostgresWebhookDeliveryStore implements WebhookDeliveryStore {
  constructor(private readonly sql: SqlSession) {}

  async subscribedKeys(
    keys: string[],
    options?: Options,
  ): Promise<Set<string>> {
    const rows = rowsOf(
      await this.sql.execute(
        `SELECT DISTINCT s.key
           FROM ${SUBSCRIPTIONS} s
           JOIN ${CLIENT_APPS} c ON c.id = s.client_app_id AND NOT c.deleted
          WHERE s.key = ANY($1::varchar[]) AND NOT s.deleted`,
        [keys],
        options,
      ),
    );
    return new Set(rows.map(row => String(row.key)));
  }

  async enqueue(event: IEvent, options?: Options): Promise<number> {
    const [row] = rowsOf(
      await this.sql.execute(
        `WITH targets AS (
           SELECT s.id, s.client_app_id, s.url, s.key, ${RECEIVER('s')} AS receiver
             FROM ${SUBSCRIPTIONS} s
             JOIN ${CLIENT_APPS} c ON c.id = s.client_app_id AND NOT c.deleted
            WHERE s.key = $1 AND NOT s.deleted
         ), queued AS (
           INSERT INTO ${DELIVERIES}
                  (subscription_id, client_app_id, url, event_key, event,
                   next_attempt_on)
           SELECT t.id, t.client_app_id, t.url, t.key, $2::json,
                  -- Not before the latest undelivered delivery on each of
                  -- its keys: its next try, which those before it do not
                  -- pass. Never while a dead delivery shares the key (its
                  -- re-queue wakes what shares its keys). One that itself
                  -- waits behind a dead delivery on another key passes no
                  -- "never" on: that re-queue would not wake this one.
                  GREATEST(now(), COALESCE((
                    SELECT max(CASE
                                 -- A dead delivery is the first of its keys
                                 -- (it was tried, so first on each; later
                                 -- ones come after), so the latest and the
                                 -- first are tested, not every delivery of
                                 -- the key.
                                 WHEN d.status = 'dead' OR (
                                   SELECT f.status = 'dead' FROM ${KEYS} fk
                                     JOIN ${DELIVERIES} f ON f.id = fk.delivery_id
                                    WHERE fk.receiver = t.receiver
                                      AND fk.ordering_key = k.key
                                    ORDER BY fk.seq
                                    LIMIT 1) THEN ${POSTGRES_NEVER}
                                 WHEN d.next_attempt_on >= ${POSTGRES_NEVER} THEN now()
                                 ELSE d.next_attempt_on END)
                      FROM unnest($3::varchar[]) AS k(key)
                      CROSS JOIN LATERAL (
                        SELECT e.delivery_id FROM ${KEYS} e
                         WHERE e.receiver = t.receiver AND e.ordering_key = k.key
                         ORDER BY e.seq DESC
                         LIMIT 1) latest
                      JOIN ${DELIVERIES} d ON d.id = latest.delivery_id), now()))
             FROM targets t
           RETURNING id, seq, client_app_id, url
         ), keyed AS (
           INSERT INTO ${KEYS} (delivery_id, receiver, ordering_key, seq)
           SELECT q.id, ${RECEIVER('q')}, k.key, q.seq
             FROM queued q CROSS JOIN unnest($3::varchar[]) AS k(key)
         )
         SELECT count(*) AS n FROM queued`,
        [event.key, JSON.stringify(event), orderingKeysOf(event)],
        options,
      ),
    );
    return Number(row?.n ?? 0);
  }

  async claim(
    limit: number,
    lockMs: number,
    perRun = 1,
  ): Promise<ClaimedDelivery[]> {
    // The first undelivered delivery of each receiver and key (the heads),
    // then, behind each head with a single key, the deliveries to the same
    // receiver queued right behind it on that key, while each is due, not
    // held and of that key alone. They need no row lock of their own: while
    // the head is undelivered no claim can take them, and the claim's lock
    // (locked_until) keeps them once it commits.
    //
    // The due deliveries are put in order first (their ids only), and the
    // costlier test of whether one is a head runs on them in that order
    // until enough are found: were the order taken after the test, as the
    // planner does when it expects few due rows, every due delivery waiting
    // behind another would be tested on each claim. Twice as many heads as
    // wanted are found, so that a claim running at the same time, holding
    // the first ones, still leaves this one some.
    const rows = rowsOf(
      await this.sql.execute(
        `WITH due AS MATERIALIZED (
           SELECT d.id FROM ${DELIVERIES} d
            WHERE d.status = 'pending' AND d.next_attempt_on <= now()
              AND (d.locked_until IS NULL OR d.locked_until <= now())
            ORDER BY d.next_attempt_on, d.seq
         ), heads AS (
           SELECT d.id FROM ${DELIVERIES} d
            WHERE d.id IN (
                    SELECT due.id FROM due
                     -- A scalar subquery, not a join: tested row by row,
                     -- in order, only until the LIMIT is reached.
                     WHERE NOT (SELECT EXISTS (
                             SELECT 1 FROM ${KEYS} mine
                               JOIN ${KEYS} earlier
                                 ON earlier.receiver = mine.receiver
                                AND earlier.ordering_key = mine.ordering_key
                                AND earlier.seq < mine.seq
                              WHERE mine.delivery_id = due.id))
                     LIMIT 2 * $1::int)
              AND d.status = 'pending'
              AND (d.locked_until IS NULL OR d.locked_until <= now())
            ORDER BY d.next_attempt_on, d.seq
            LIMIT $1
            FOR UPDATE OF d SKIP LOCKED
         ), runs AS (
           SELECT k.delivery_id AS head, k.receiver, k.ordering_key, k.seq
             FROM heads h JOIN ${KEYS} k ON k.delivery_id = h.id
            WHERE NOT EXISTS (SELECT 1 FROM ${KEYS} o
                               WHERE o.delivery_id = h.id
                                 AND o.ordering_key <> k.ordering_key)
         ), followers AS (
           SELECT b.delivery_id AS id, r.head,
                  bool_and(f.status = 'pending' AND f.next_attempt_on <= now()
                           AND (f.locked_until IS NULL OR f.locked_until <= now())
                           AND NOT EXISTS (SELECT 1 FROM ${KEYS} o
                                            WHERE o.delivery_id = f.id
                                              AND o.ordering_key <> r.ordering_key))
                    OVER (PARTITION BY r.head ORDER BY b.seq) AS go
             FROM runs r
             CROSS JOIN LATERAL (
               SELECT kb.delivery_id, kb.seq FROM ${KEYS} kb
                WHERE kb.receiver = r.receiver
                  AND kb.ordering_key = r.ordering_key AND kb.seq > r.seq
                ORDER BY kb.seq
                LIMIT $3) b
             JOIN ${DELIVERIES} f ON f.id = b.delivery_id
         ), chosen AS (
           SELECT id, id AS head FROM heads
           UNION ALL
           SELECT id, head FROM followers WHERE go
         )
         UPDATE ${DELIVERIES} d
            SET locked_until = now() + make_interval(secs => $2::double precision / 1000),
                lock_token = gen_random_uuid()
           FROM chosen, ${CLIENT_APPS} c
          WHERE d.id = chosen.id AND c.id = d.client_app_id
         RETURNING d.id, d.url, d.event::text AS body, d.attempts,
                   d.total_attempts, d.lock_token, c.api_secret, d.seq,
                   chosen.head`,
        [limit, lockMs, Math.max(0, perRun - 1)],
      ),
    );
    return rows
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map(claimedDeliveryOf);
  }

  async release(claims: ClaimedDelivery[]): Promise<void> {
    if (!claims.length) return;
    await this.sql.execute(
      `UPDATE ${DELIVERIES} d
          SET locked_until = NULL, lock_token = NULL
         FROM unnest($1::uuid[], $2::uuid[]) AS c(id, token)
        WHERE d.id = c.id AND d.lock_token = c.token`,
      [claims.map(c => c.id), claims.map(c => c.lockToken)],
    );
  }

  async record(claim: ClaimedDelivery, outcome: AttemptOutcome): Promise<void> {
    const status = statusOf(outcome);
    await this.sql.execute(
      `WITH attempt AS (
         INSERT INTO ${ATTEMPTS}
                (delivery_id, attempt_no, status_code, error, duration_ms, worker)
         VALUES ($1, $3, $4, $5, $6, $7)
       ), recorded AS (
         UPDATE ${DELIVERIES}
            SET status = $8::varchar,
                attempts = attempts + 1,
                total_attempts = total_attempts + 1,
                last_status_code = $4,
                last_error = $5,
                next_attempt_on = now() + make_interval(secs => $9::double precision / 1000),
                delivered_on = CASE WHEN $8::varchar = 'delivered' THEN now() END,
                locked_until = NULL,
                lock_token = NULL,
                modified_on = now()
          WHERE id = $1 AND lock_token = $2
          RETURNING id, status,
                    CASE WHEN status = 'dead' THEN ${POSTGRES_NEVER}
                         ELSE next_attempt_on END AS not_before
       ), released AS (
         -- Delivered: the receiver's next deliveries of its tasks may go.
         DELETE FROM ${KEYS}
          WHERE delivery_id IN (SELECT id FROM recorded WHERE status = 'delivered')
       )
       -- Not delivered: the deliveries behind it wait for its next try
       -- (for its re-queue, when it is dead).
       UPDATE ${DELIVERIES} behind
          SET next_attempt_on = r.not_before
         FROM recorded r
         JOIN ${KEYS} mine ON mine.delivery_id = r.id
         JOIN ${KEYS} later
           ON later.receiver = mine.receiver
          AND later.ordering_key = mine.ordering_key
          AND later.seq > mine.seq
        WHERE r.status <> 'delivered' AND behind.id = later.delivery_id
          AND behind.status = 'pending' AND behind.next_attempt_on < r.not_before`,
      [
        claim.id,
        claim.lockToken,
        claim.attemptNo,
        outcome.statusCode ?? null,
        outcome.error ?? null,
        Math.round(outcome.durationMs),
        outcome.worker,
        status,
        outcome.delivered || outcome.dead ? 0 : outcome.retryInMs,
      ],
    );
  }

  async recordAll(
    attempts: {claim: ClaimedDelivery; outcome: AttemptOutcome}[],
  ): Promise<void> {
    if (!attempts.length) return;
    const column = <T>(f: (a: (typeof attempts)[number]) => T) =>
      attempts.map(f);
    // As `record`, for every row of `input` at once.
    await this.sql.execute(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::int[],
                              $5::text[], $6::int[], $7::text[], $8::varchar[],
                              $9::double precision[])
           AS t(id, lock_token, attempt_no, status_code, error, duration_ms,
                worker, status, retry_ms)
       ), attempt AS (
         INSERT INTO ${ATTEMPTS}
                (delivery_id, attempt_no, status_code, error, duration_ms, worker)
         SELECT id, attempt_no, status_code, error, duration_ms, worker FROM input
       ), recorded AS (
         UPDATE ${DELIVERIES} d
            SET status = i.status,
                attempts = d.attempts + 1,
                total_attempts = d.total_attempts + 1,
                last_status_code = i.status_code,
                last_error = i.error,
                next_attempt_on = now() + make_interval(secs => i.retry_ms / 1000),
                delivered_on = CASE WHEN i.status = 'delivered' THEN now() END,
                locked_until = NULL,
                lock_token = NULL,
                modified_on = now()
           FROM input i
          WHERE d.id = i.id AND d.lock_token = i.lock_token
          RETURNING d.id, d.status,
                    CASE WHEN d.status = 'dead' THEN ${POSTGRES_NEVER}
                         ELSE d.next_attempt_on END AS not_before
       ), released AS (
         DELETE FROM ${KEYS}
          WHERE delivery_id IN (SELECT id FROM recorded WHERE status = 'delivered')
       )
       UPDATE ${DELIVERIES} behind
          SET next_attempt_on = r.not_before
         FROM recorded r
         JOIN ${KEYS} mine ON mine.delivery_id = r.id
         JOIN ${KEYS} later
           ON later.receiver = mine.receiver
          AND later.ordering_key = mine.ordering_key
          AND later.seq > mine.seq
        WHERE r.status <> 'delivered' AND behind.id = later.delivery_id
          AND behind.status = 'pending' AND behind.next_attempt_on < r.not_before`,
      [
        column(a => a.claim.id),
        column(a => a.claim.lockToken),
        column(a => a.claim.attemptNo),
        column(a => a.outcome.statusCode ?? null),
        column(a => a.outcome.error ?? null),
        column(a => Math.round(a.outcome.durationMs)),
        column(a => a.outcome.worker),
        column(a => statusOf(a.outcome)),
        column(a =>
          a.outcome.delivered || a.outcome.dead ? 0 : a.outcome.retryInMs,
        ),
      ],
    );
  }

  async requeueDead(id: string, clientAppId: string): Promise<boolean> {
    const [row] = rowsOf(
      await this.sql.execute(
        `WITH requeued AS (
           UPDATE ${DELIVERIES}
              SET status = 'pending', attempts = 0, next_attempt_on = now(),
                  locked_until = NULL, lock_token = NULL, modified_on = now()
            WHERE id = $1 AND client_app_id = $2 AND status = 'dead'
            RETURNING id
         ), resumed AS (
           -- The deliveries held back behind it go back in line (the claim
           -- still sends them only after it).
           UPDATE ${DELIVERIES} behind
              SET next_attempt_on = now()
             FROM requeued r
             JOIN ${KEYS} mine ON mine.delivery_id = r.id
             JOIN ${KEYS} later
               ON later.receiver = mine.receiver
              AND later.ordering_key = mine.ordering_key
              AND later.seq > mine.seq
            WHERE behind.id = later.delivery_id AND behind.status = 'pending'
              AND behind.next_attempt_on > now()
         )
         SELECT count(*) AS n FROM requeued`,
        [id, clientAppId],
      ),
    );
    return Number(row?.n ?? 0) > 0;
  }
}
