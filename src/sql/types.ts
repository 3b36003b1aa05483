import {Entity} from '@loopback/repository';

/** The SQL dialects the stores are written in, by juggler connector name. */
export type SqlDialectName = 'postgresql' | 'mysql';

/** One implementation per dialect (of a store, say). */
export type ByDialect<T> = Record<SqlDialectName, T>;

/**
 * What differs between databases below the repositories: the error codes
 * they read, the few statements they issue themselves and who makes the
 * ids. The stores are written per dialect as a whole (`sql/<dialect>/`).
 */
export interface SqlDialect {
  readonly name: SqlDialectName;
  /**
   * Whether the database makes a new row's uuid id and the connector hands
   * it back. Where not, the repositories make the id before the insert.
   */
  readonly readsGeneratedUuids: boolean;
  /** The error is a violation of a unique index. */
  isUniqueViolation(err: unknown): boolean;
  /**
   * The error says a value from the request does not fit its column (a
   * malformed uuid or date, a number out of range, a string too long).
   */
  isBadValue(err: unknown): boolean;
  /** The model's table, schema-qualified where the database has schemas, and quoted. */
  tableOf(model: typeof Entity): string;
  /** A statement that locks the row whose id is its one parameter until the transaction ends. */
  lockByIdStatement(model: typeof Entity): string;
}
