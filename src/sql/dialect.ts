import {MYSQL} from './mysql/dialect';
import {POSTGRESQL} from './postgresql/dialect';
import {ByDialect, SqlDialect, SqlDialectName} from './types';

/**
 * What tells a datasource's database: a juggler datasource's connector (or
 * its settings), a `SequelizeDataSource`'s config (`connector`).
 */
export interface DialectSource {
  name?: string;
  connector?: {name?: string} | null;
  settings?: {connector?: unknown};
  config?: {connector?: unknown};
}

const DIALECTS: ByDialect<SqlDialect> = {postgresql: POSTGRESQL, mysql: MYSQL};

/**
 * The dialect of a datasource, from its connector's name: the one place
 * that tells databases apart. A connector the service has no SQL for is an
 * error that says which ones it has.
 */
export function sqlDialectOf(dataSource: DialectSource): SqlDialect {
  const connector =
    dataSource.connector?.name ??
    String(dataSource.settings?.connector ?? dataSource.config?.connector);
  const dialect = DIALECTS[connector as SqlDialectName];
  if (!dialect) {
    throw new Error(
      `The datasource ${dataSource.name} uses the connector "${connector}", for which loopback4-task-service has no SQL; it supports: ${Object.keys(DIALECTS).join(', ')}.`,
    );
  }
  return dialect;
}

/** The implementation written for the datasource's dialect. */
export function forDialect<T>(
  dataSource: DialectSource,
  implementations: ByDialect<T>,
): T {
  return implementations[sqlDialectOf(dataSource).name];
}

/** Whether any dialect reads `err` as a value that does not fit its column. */
export function isBadValueError(err: unknown): boolean {
  return Object.values(DIALECTS).some(dialect => dialect.isBadValue(err));
}
