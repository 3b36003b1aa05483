import {Entity} from '@loopback/repository';
import {SqlDialect} from '../types';

/**
 * MySQL's and MariaDB's codes (as the driver names them) for a value the
 * column cannot hold, in strict mode (the default of both): a malformed
 * date or number, a number out of range, a string too long.
 */
const BAD_VALUE_CODES = new Set([
  'ER_TRUNCATED_WRONG_VALUE',
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  'ER_WARN_DATA_OUT_OF_RANGE',
  'ER_DATA_TOO_LONG',
  'WARN_DATA_TRUNCATED',
]);

const UNIQUE_VIOLATION = 'ER_DUP_ENTRY';

/**
 * The driver's error code: on the error itself (juggler connectors) or on
 * the driver error an ORM wrapped (Sequelize's `original`).
 */
function codeOf(err: unknown): string | undefined {
  const e = err as {code?: unknown; original?: {code?: unknown}} | undefined;
  const code = e?.code ?? e?.original?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `?, ?, …`: one placeholder per value, for an `IN (…)` list. */
export function mySqlPlaceholders(values: unknown[]): string {
  return values.map(() => '?').join(', ');
}

/** `(?, ?), (?, ?)`: a row of `width` placeholders for each of `rows`. */
export function mySqlTuples(rows: unknown[], width: number): string {
  const tuple = `(${Array.from({length: width}, () => '?').join(', ')})`;
  return rows.map(() => tuple).join(', ');
}

/**
 * A time nothing is due at: "not before this" for the rows that wait behind
 * a parked event or a dead delivery, until it is replayed or re-queued.
 */
export const MYSQL_NEVER = `TIMESTAMP('9999-12-31 00:00:00')`;

/** A name as MySQL quotes it. */
export function quoteMySqlIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * MySQL 8 and MariaDB 10.6+, through `loopback-connector-mysql`. The tables
 * live in the connected database; uuid ids are CHAR(36) whose default the
 * connector cannot read back, so the service makes them.
 */
export const MYSQL: SqlDialect = {
  name: 'mysql',
  readsGeneratedUuids: false,
  isUniqueViolation: err => codeOf(err) === UNIQUE_VIOLATION,
  isBadValue: err => BAD_VALUE_CODES.has(codeOf(err) ?? ''),
  tableOf(model: typeof Entity) {
    const settings = model.definition.settings.mysql as
      {table?: string} | undefined;
    return quoteMySqlIdentifier(settings?.table ?? model.modelName);
  },
  lockByIdStatement(model: typeof Entity) {
    return `SELECT 1 FROM ${this.tableOf(model)} WHERE id = ? FOR UPDATE`;
  },
};
