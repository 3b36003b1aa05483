import {Entity} from '@loopback/repository';
import {TASK_SCHEMA} from '../../models';
import {SqlDialect} from '../types';

/** PostgreSQL's codes for a value the column type cannot hold. */
const BAD_VALUE_CODES = new Set(['22P02', '22007', '22008', '22003', '22001']);

const UNIQUE_VIOLATION = '23505';

/**
 * The driver's error code: on the error itself (juggler connectors) or on
 * the driver error an ORM wrapped (Sequelize's `original`).
 */
function codeOf(err: unknown): string | undefined {
  const e = err as {code?: unknown; original?: {code?: unknown}} | undefined;
  const code = e?.code ?? e?.original?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A name as PostgreSQL quotes it. */
/**
 * A time nothing is due at: "not before this" for the rows that wait behind
 * a parked event or a dead delivery, until it is replayed or re-queued.
 */
export const POSTGRES_NEVER = `'9999-12-31T00:00:00Z'::timestamptz`;

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** PostgreSQL, through `loopback-connector-postgresql`. */
export const POSTGRESQL: SqlDialect = {
  name: 'postgresql',
  readsGeneratedUuids: true,
  isUniqueViolation: err => codeOf(err) === UNIQUE_VIOLATION,
  isBadValue: err => BAD_VALUE_CODES.has(codeOf(err) ?? ''),
  tableOf(model: typeof Entity) {
    const settings = model.definition.settings.postgresql as
      {schema?: string; table?: string} | undefined;
    return `${quoteIdentifier(settings?.schema ?? TASK_SCHEMA)}.${quoteIdentifier(settings?.table ?? model.modelName)}`;
  },
  lockByIdStatement(model: typeof Entity) {
    return `SELECT 1 FROM ${this.tableOf(model)} WHERE id = $1 FOR UPDATE`;
  },
};
