/** The schema every table of the service lives in on PostgreSQL (created by the migrations). */
export const TASK_SCHEMA = 'main';

/**
 * Settings of a model stored in table `table` of the service: in schema
 * `main` on PostgreSQL, in the connected database on MySQL (where a schema
 * is a database).
 */
export function serviceTable(table: string) {
  return {postgresql: {schema: TASK_SCHEMA, table}, mysql: {table}};
}

/** @deprecated The same as `serviceTable`, which also names the MySQL table. */
export const pgTable = serviceTable;

/** PostgreSQL types of the service's columns other than the connector's defaults. */
export type PostgresColumnType = 'uuid' | 'json' | 'bigint' | 'integer';

/**
 * Where a property is stored: its column, named the same on PostgreSQL and
 * MySQL (the migrations make the same columns on both), with the PostgreSQL
 * type where the connector's default would not fit.
 */
export function column(
  columnName: string,
  postgresqlType?: PostgresColumnType,
) {
  return {
    postgresql: postgresqlType
      ? {columnName, dataType: postgresqlType}
      : {columnName},
    mysql: {columnName},
  };
}

/**
 * A uuid primary key. PostgreSQL generates it (`gen_random_uuid()`); on
 * MySQL the connector cannot read a generated uuid back, so the service
 * makes it (see `SqlDialect.idsMadeByService`).
 */
export function uuidId() {
  return {
    type: 'string',
    id: true,
    generated: true,
    useDefaultIdType: false,
    ...column('id', 'uuid'),
  } as const;
}
