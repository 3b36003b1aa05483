import {BindingScope, inject, injectable} from '@loopback/core';
import {juggler, Options} from '@loopback/repository';
import {IEvent} from '../../../interfaces';
import {TaskDbSourceName} from '../../../types';
import {WebhookDeliveryStatus} from '../types';

/** A delivery a worker has claimed: what it needs to sign and POST it. */
export interface ClaimedDelivery {
  id: string;
  url: string;
  /** The event JSON text exactly as stored: the bytes signed and sent. */
  body: string;
  /** Attempts since (re)queue, before this one. */
  attempts: number;
  /** Number of this attempt among all attempts of the delivery. */
  attemptNo: number;
  lockToken: string;
  /** The subscribing client's secret as stored (encrypted); decrypted only to sign. */
  apiSecret: string;
}

export interface AttemptOutcome {
  statusCode?: number;
  error?: string;
  durationMs: number;
  worker: string;
  /** 2xx: the delivery is done. */
  delivered: boolean;
  /** Not delivered: `dead` when true, else retried after `retryInMs`. */
  dead: boolean;
  retryInMs: number;
}

/**
 * The SQL of durable webhook delivery. Each method is one statement, so
 * each is atomic on its own and holds no transaction open between calls.
 */
@injectable({scope: BindingScope.SINGLETON})
export class WebhookDeliveryStore {
  constructor(
    @inject(`datasources.${TaskDbSourceName}`)
    private readonly dataSource: juggler.DataSource,
  ) {}

  /**
   * One pending delivery per live subscription to `event.key`, in one
   * statement (inside `options.transaction` when given). Returns how many.
   */
  async enqueue(event: IEvent, options?: Options): Promise<number> {
    const rows = rowsOf(
      await this.dataSource.execute(
        `INSERT INTO main.webhook_deliveries
                (subscription_id, client_app_id, url, event_key, event)
         SELECT s.id, s.client_app_id, s.url, s.key, $2::json
           FROM main.webhook_subscriptions s
           JOIN main.client_apps c ON c.id = s.client_app_id AND NOT c.deleted
          WHERE s.key = $1 AND NOT s.deleted
         RETURNING id`,
        [event.key, JSON.stringify(event)],
        options,
      ),
    );
    return rows.length;
  }

  /**
   * Claims up to `limit` due deliveries no other worker holds, until
   * `lockMs` from now. The claim commits at once (autocommit statement); a
   * worker that dies mid-delivery loses its claim when `lockMs` has passed.
   */
  async claim(limit: number, lockMs: number): Promise<ClaimedDelivery[]> {
    const rows = rowsOf(
      await this.dataSource.execute(
        `WITH due AS (
           SELECT id FROM main.webhook_deliveries
            WHERE status = 'pending' AND next_attempt_on <= now()
              AND (locked_until IS NULL OR locked_until <= now())
            ORDER BY next_attempt_on
            LIMIT $1
            FOR UPDATE SKIP LOCKED
         )
         UPDATE main.webhook_deliveries d
            SET locked_until = now() + make_interval(secs => $2::double precision / 1000),
                lock_token = gen_random_uuid()
           FROM due, main.client_apps c
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

  /**
   * Records an attempt and its outcome in one statement. The delivery row
   * changes only while this worker still holds the claim; the attempt is
   * recorded either way (it happened).
   */
  async record(claim: ClaimedDelivery, outcome: AttemptOutcome): Promise<void> {
    const status = outcome.delivered
      ? WebhookDeliveryStatus.Delivered
      : outcome.dead
        ? WebhookDeliveryStatus.Dead
        : WebhookDeliveryStatus.Pending;
    await this.dataSource.execute(
      `WITH attempt AS (
         INSERT INTO main.webhook_delivery_attempts
                (delivery_id, attempt_no, status_code, error, duration_ms, worker)
         VALUES ($1, $3, $4, $5, $6, $7)
       )
       UPDATE main.webhook_deliveries
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

  /**
   * Puts a dead delivery of `clientAppId` back in the queue with a fresh
   * attempt budget. Returns false when there is no such dead delivery.
   */
  async requeueDead(id: string, clientAppId: string): Promise<boolean> {
    const result = await this.dataSource.execute(
      `UPDATE main.webhook_deliveries
          SET status = 'pending', attempts = 0, next_attempt_on = now(),
              locked_until = NULL, lock_token = NULL, modified_on = now()
        WHERE id = $1 AND client_app_id = $2 AND status = 'dead'`,
      [id, clientAppId],
    );
    return affected(result) > 0;
  }
}

type Row = Record<string, unknown>;

/** The rows of a statement, whatever shape the connector gives them in. */
function rowsOf(result: unknown): Row[] {
  if (Array.isArray(result)) return result as Row[];
  const rows = (result as {rows?: Row[]} | null)?.rows;
  return rows ?? [];
}

function affected(result: unknown): number {
  if (Array.isArray(result)) return result.length;
  return (result as {count?: number} | null)?.count ?? 0;
}
