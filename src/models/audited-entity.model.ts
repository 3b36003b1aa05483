import {Entity, property} from '@loopback/repository';

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
