import {juggler, Options} from '@loopback/repository';
import {IEvent} from '../../interfaces';
import {OutboxEvent} from '../../models';
import {OutboxEntry, OutboxStats, OutboxStore} from '../outbox.store';
import {rowsOf} from '../rows';
import {POSTGRESQL} from './dialect';

const OUTBOX = POSTGRESQL.tableOf(OutboxEvent);

/** The outbox on PostgreSQL; relays share the work through `FOR UPDATE SKIP LOCKED`. */
export class PostgresOutboxStore implements OutboxStore {
  constructor(private readonly dataSource: juggler.DataSource) {}

  async add(event: IEvent, options?: Options): Promise<void> {
    await this.dataSource.execute(
      `INSERT INTO ${OUTBOX} (key, event) VALUES ($1, $2::json)`,
      [event.key, JSON.stringify(event)],
      options,
    );
  }

  async claimDue(limit: number, options: Options): Promise<OutboxEntry[]> {
    const rows = rowsOf(
      await this.dataSource.execute(
        `SELECT id, event, attempts FROM ${OUTBOX}
          WHERE published_on IS NULL AND available_on <= now()
            AND seq < COALESCE((SELECT min(seq) FROM ${OUTBOX}
                                 WHERE published_on IS NULL AND available_on > now()),
                               9223372036854775807)
          ORDER BY seq
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [limit],
        options,
      ),
    );
    return rows.map(row => ({
      id: String(row.id),
      event: (typeof row.event === 'string'
        ? JSON.parse(row.event)
        : row.event) as IEvent,
      attempts: Number(row.attempts),
    }));
  }

  async markPublished(id: string, options: Options): Promise<void> {
    await this.dataSource.execute(
      `UPDATE ${OUTBOX} SET published_on = now(), attempts = attempts + 1 WHERE id = $1`,
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
          SET attempts = attempts + 1, last_error = $2,
              available_on = now() + ($3 || ' milliseconds')::interval
        WHERE id = $1`,
      [id, error, String(retryInMs)],
      options,
    );
  }

  async pendingStats(options?: Options): Promise<OutboxStats> {
    const [row] = rowsOf(
      await this.dataSource.execute(
        `SELECT count(*) AS count,
                (EXTRACT(EPOCH FROM (now() - min(created_on))) * 1000)::float8 AS oldest_age_ms
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
