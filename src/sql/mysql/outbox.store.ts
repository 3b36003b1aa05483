import {juggler, Options} from '@loopback/repository';
import {IEvent} from '../../interfaces';
import {OutboxEvent} from '../../models';
import {OutboxEntry, OutboxStats, OutboxStore} from '../outbox.store';
import {parsedJson, rowsOf} from '../rows';
import {MYSQL} from './dialect';

const OUTBOX = MYSQL.tableOf(OutboxEvent);

/**
 * The outbox on MySQL; relays share the work through `FOR UPDATE SKIP
 * LOCKED` (MySQL 8.0.1+, MariaDB 10.6+). Times are UTC_TIMESTAMP(3), as the
 * columns' defaults: NOW() would be the session's time zone, in seconds.
 */
export class MySqlOutboxStore implements OutboxStore {
  constructor(private readonly dataSource: juggler.DataSource) {}

  async add(event: IEvent, options?: Options): Promise<void> {
    await this.dataSource.execute(
      `INSERT INTO ${OUTBOX} (\`key\`, event) VALUES (?, ?)`,
      [event.key, JSON.stringify(event)],
      options,
    );
  }

  async claimDue(limit: number, options: Options): Promise<OutboxEntry[]> {
    const rows = rowsOf(
      await this.dataSource.execute(
        `SELECT id, event, attempts FROM ${OUTBOX}
          WHERE published_on IS NULL AND available_on <= UTC_TIMESTAMP(3)
            AND seq < COALESCE((SELECT MIN(seq) FROM ${OUTBOX}
                                 WHERE published_on IS NULL
                                   AND available_on > UTC_TIMESTAMP(3)),
                               9223372036854775807)
          ORDER BY seq
          LIMIT ?
          FOR UPDATE SKIP LOCKED`,
        [limit],
        options,
      ),
    );
    return rows.map(row => ({
      id: String(row.id),
      event: parsedJson<IEvent>(row.event),
      attempts: Number(row.attempts),
    }));
  }

  async markPublished(id: string, options: Options): Promise<void> {
    await this.dataSource.execute(
      `UPDATE ${OUTBOX} SET published_on = UTC_TIMESTAMP(3), attempts = attempts + 1
        WHERE id = ?`,
      [id],
      options,
    );
  }

  async markFailed(
    id: string,
    error: string,
    retryInMs: number,
    options: Options,
  ): Promise<void> {
    await this.dataSource.execute(
      `UPDATE ${OUTBOX}
          SET attempts = attempts + 1, last_error = ?,
              available_on = TIMESTAMPADD(MICROSECOND, ? * 1000, UTC_TIMESTAMP(3))
        WHERE id = ?`,
      [error, Math.round(retryInMs), id],
      options,
    );
  }

  async pendingStats(options?: Options): Promise<OutboxStats> {
    const [row] = rowsOf(
      await this.dataSource.execute(
        `SELECT COUNT(*) AS count,
                TIMESTAMPDIFF(MICROSECOND, MIN(created_on), UTC_TIMESTAMP(3)) / 1000
                  AS oldest_age_ms
           FROM ${OUTBOX}
          WHERE published_on IS NULL`,
        [],
        options,
      ),
    );
    const age = row?.oldest_age_ms;
    return {
      count: Number(row?.count ?? 0),
      oldestAgeMs: age === null || age === undefined ? undefined : Number(age),
    };
  }
}
