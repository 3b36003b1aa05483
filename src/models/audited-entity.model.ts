import {Entity, property} from '@loopback/repository';

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

/** Audit columns: who made and changed a row, and soft delete. */
export class AuditedEntity extends Entity {
  @property({
    type: 'date',
    postgresql: {columnName: 'created_on'},
  })
  createdOn?: Date;

  @property({
    type: 'date',
    postgresql: {columnName: 'modified_on'},
  })
  modifiedOn?: Date;

  @property({type: 'string', postgresql: {columnName: 'created_by'}})
  createdBy?: string;

  @property({type: 'string', postgresql: {columnName: 'modified_by'}})
  modifiedBy?: string;

  @property({
    type: 'boolean',
    default: false,
    postgresql: {columnName: 'deleted'},
  })
  deleted?: boolean;

  @property({type: 'date', postgresql: {columnName: 'deleted_on'}})
  deletedOn?: Date;

  @property({type: 'string', postgresql: {columnName: 'deleted_by'}})
  deletedBy?: string;
}

/** Properties a client never sets: the id and the audit columns. */
export const AUDIT_AND_ID: (keyof AuditedEntity | 'id')[] = [
  'id',
  'createdOn',
  'modifiedOn',
  'createdBy',
  'modifiedBy',
  'deleted',
  'deletedOn',
  'deletedBy',
];
