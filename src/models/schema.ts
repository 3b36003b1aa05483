/** The schema every table of the service lives in (created by the migrations). */
export const TASK_SCHEMA = 'main';

/** `postgresql` settings of a model stored in table `name` of the service's schema. */
export function pgTable(table: string) {
  return {postgresql: {schema: TASK_SCHEMA, table}};
}

/** A uuid primary key that the database generates. */
export function uuidId() {
  return {
    type: 'string',
    id: true,
    generated: true,
    useDefaultIdType: false,
    postgresql: {columnName: 'id', dataType: 'uuid'},
  } as const;
}
