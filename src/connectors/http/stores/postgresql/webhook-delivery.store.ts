import {juggler, Options} from '@loopback/repository';
import {IEvent} from '../../../../interfaces';
import {affectedCount, POSTGRESQL, rowsOf} from '../../../../sql';
import {
  ClientApp,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookSubscription,
} from '../../models';
import {WebhookDeliveryStatus} from '../../types';
import {
  AttemptOutcome,
  ClaimedDelivery,
  WebhookDeliveryStore,
} from '../webhook-delivery.store';

const DELIVERIES = POSTGRESQL.tableOf(WebhookDelivery);
const ATTEMPTS = POSTGRESQL.tableOf(WebhookDeliveryAttempt);
const SUBSCRIPTIONS = POSTGRESQL.tableOf(WebhookSubscription);
const CLIENT_APPS = POSTGRESQL.tableOf(ClientApp);

/**
 * Durable webhook delivery on PostgreSQL: workers share the queue through
 * `FOR UPDATE SKIP LOCKED` and a time-limited claim.
 */
export class PostgresWebhookDeliveryStore implements WebhookDeliveryStore {
  constructor(private readonly dataSource: juggler.DataSource) {}

  async enqueue(event: IEvent, options?: Options): Promise<number> {
    const rows = rowsOf(
      await this.dataSource.execute(
        `INSERT INTO ${DELIVERIES}
                (subscription_id, client_app_id, url, event_key, event)
         SELECT s.id, s.client_app_id, s.url, s.key, $2::json
           FROM ${SUBSCRIPTIONS} s
           JOIN ${CLIENT_APPS} c ON c.id = s.client_app_id AND NOT c.deleted
          WHERE s.key = $1 AND NOT s.deleted
         RETURNING id`,
        [event.key, JSON.stringify(event)],
        options,
      ),
    );
    return rows.length;
  }

  async claim(limit: number, lockMs: number): Promise<ClaimedDelivery[]> {
    const rows = rowsOf(
      await this.dataSource.execute(
        `WITH due AS (
           SELECT id FROM ${DELIVERIES}
            WHERE status = 'pending' AND next_attempt_on <= now()
              AND (locked_until IS NULL OR locked_until <= now())
            ORDER BY next_attempt_on
            LIMIT $1
            FOR UPDATE SKIP LOCKED
         )
         UPDATE ${DELIVERIES} d
            SET locked_until = now() + make_interval(secs => $2::double precision / 1000),
                lock_token = gen_random_uuid()
           FROM due, ${CLIENT_APPS} c
          WHERE d.id = due.id AND c.id = d.client_app_id
         RETURNING d.id, d.url, d.event::text AS body, d.attempts,
                   d.total_attempts, d.lock_token, c.api_secret`,
        [limit, lockMs],
      ),
    );
    return rows.map(r => ({
      id: String(r.id),
      url: String(r.url),
      body: String(r.body),
      attempts: Number(r.attempts),
      attemptNo: Number(r.total_attempts) + 1,
      lockToken: String(r.lock_token),
      apiSecret: String(r.api_secret),
    }));
  }

  async record(claim: ClaimedDelivery, outcome: AttemptOutcome): Promise<void> {
    const status = statusOf(outcome);
    await this.dataSource.execute(
      `WITH attempt AS (
         INSERT INTO ${ATTEMPTS}
                (delivery_id, attempt_no, status_code, error, duration_ms, worker)
         VALUES ($1, $3, $4, $5, $6, $7)
       )
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
        WHERE id = $1 AND lock_token = $2`,
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
    await this.dataSource.execute(
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
       )
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
        WHERE d.id = i.id AND d.lock_token = i.lock_token`,
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
    const result = await this.dataSource.execute(
      `UPDATE ${DELIVERIES}
          SET status = 'pending', attempts = 0, next_attempt_on = now(),
              locked_until = NULL, lock_token = NULL, modified_on = now()
        WHERE id = $1 AND client_app_id = $2 AND status = 'dead'`,
      [id, clientAppId],
    );
    return affectedCount(result) > 0;
  }
}

function statusOf(outcome: AttemptOutcome): WebhookDeliveryStatus {
  return outcome.delivered
    ? WebhookDeliveryStatus.Delivered
    : outcome.dead
      ? WebhookDeliveryStatus.Dead
      : WebhookDeliveryStatus.Pending;
}
