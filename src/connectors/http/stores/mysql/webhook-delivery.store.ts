import {juggler, Options} from '@loopback/repository';
import {randomUUID} from 'crypto';
import {IEvent} from '../../../../interfaces';
import {
  affectedCount,
  JugglerTransactions,
  MYSQL,
  Row,
  rowsOf,
} from '../../../../sql';
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

const DELIVERIES = MYSQL.tableOf(WebhookDelivery);
const ATTEMPTS = MYSQL.tableOf(WebhookDeliveryAttempt);
const SUBSCRIPTIONS = MYSQL.tableOf(WebhookSubscription);
const CLIENT_APPS = MYSQL.tableOf(ClientApp);

/** `?, ?, …`: one placeholder per value. */
function placeholders(values: unknown[]): string {
  return values.map(() => '?').join(', ');
}

/**
 * Durable webhook delivery on MySQL 8 / MariaDB 10.6+: workers share the
 * queue through `FOR UPDATE SKIP LOCKED` and a time-limited claim. With no
 * UPDATE … RETURNING, a claim is a short transaction: lock the due rows,
 * stamp them, read them back. Times are UTC_TIMESTAMP(3), as the columns'
 * defaults.
 */
export class MySqlWebhookDeliveryStore implements WebhookDeliveryStore {
  private readonly transactions: JugglerTransactions;

  constructor(private readonly dataSource: juggler.DataSource) {
    this.transactions = new JugglerTransactions(dataSource);
  }

  async enqueue(event: IEvent, options?: Options): Promise<number> {
    const result = await this.dataSource.execute(
      `INSERT INTO ${DELIVERIES}
              (subscription_id, client_app_id, url, event_key, event)
       SELECT s.id, s.client_app_id, s.url, s.\`key\`, ?
         FROM ${SUBSCRIPTIONS} s
         JOIN ${CLIENT_APPS} c ON c.id = s.client_app_id AND NOT c.deleted
        WHERE s.\`key\` = ? AND NOT s.deleted`,
      [JSON.stringify(event), event.key],
      options,
    );
    return affectedCount(result);
  }

  async claim(limit: number, lockMs: number): Promise<ClaimedDelivery[]> {
    const rows = await this.transactions.run(async options => {
      const due = rowsOf(
        await this.dataSource.execute(
          `SELECT id FROM ${DELIVERIES}
            WHERE status = 'pending' AND next_attempt_on <= UTC_TIMESTAMP(3)
              AND (locked_until IS NULL OR locked_until <= UTC_TIMESTAMP(3))
            ORDER BY next_attempt_on
            LIMIT ?
            FOR UPDATE SKIP LOCKED`,
          [limit],
          options,
        ),
      ).map(r => String(r.id));
      if (!due.length) return [];
      // One token for the rows of this claim: `record` needs the id too.
      const lockToken = randomUUID();
      await this.dataSource.execute(
        `UPDATE ${DELIVERIES}
            SET locked_until = TIMESTAMPADD(MICROSECOND, ? * 1000, UTC_TIMESTAMP(3)),
                lock_token = ?
          WHERE id IN (${placeholders(due)})`,
        [Math.round(lockMs), lockToken, ...due],
        options,
      );
      return rowsOf(
        await this.dataSource.execute(
          `SELECT d.id, d.url, CAST(d.event AS CHAR) AS body, d.attempts,
                  d.total_attempts, d.lock_token, c.api_secret
             FROM ${DELIVERIES} d
             JOIN ${CLIENT_APPS} c ON c.id = d.client_app_id
            WHERE d.id IN (${placeholders(due)})
            ORDER BY d.next_attempt_on`,
          due,
          options,
        ),
      );
    });
    return rows.map((r: Row) => ({
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
    const status = outcome.delivered
      ? WebhookDeliveryStatus.Delivered
      : outcome.dead
        ? WebhookDeliveryStatus.Dead
        : WebhookDeliveryStatus.Pending;
    const retryInMs = outcome.delivered || outcome.dead ? 0 : outcome.retryInMs;
    // Both writes or neither, as PostgreSQL's single statement.
    await this.transactions.run(async options => {
      await this.dataSource.execute(
        `INSERT INTO ${ATTEMPTS}
                (delivery_id, attempt_no, status_code, error, duration_ms, worker)
         VALUES (?, ?, ?, ?, ?, ?)`,
        [
          claim.id,
          claim.attemptNo,
          outcome.statusCode ?? null,
          outcome.error ?? null,
          Math.round(outcome.durationMs),
          outcome.worker,
        ],
        options,
      );
      await this.dataSource.execute(
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
          WHERE id = ? AND lock_token = ?`,
        [
          status,
          outcome.statusCode ?? null,
          outcome.error ?? null,
          Math.round(retryInMs),
          status,
          claim.id,
          claim.lockToken,
        ],
        options,
      );
    });
  }

  async requeueDead(id: string, clientAppId: string): Promise<boolean> {
    const result = await this.dataSource.execute(
      `UPDATE ${DELIVERIES}
          SET status = 'pending', attempts = 0, next_attempt_on = UTC_TIMESTAMP(3),
              locked_until = NULL, lock_token = NULL, modified_on = UTC_TIMESTAMP(3)
        WHERE id = ? AND client_app_id = ? AND status = 'dead'`,
      [id, clientAppId],
    );
    return affectedCount(result) > 0;
  }
}
