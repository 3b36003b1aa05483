import {Entity, property} from '@loopback/repository';
import {column} from './schema';

/** Audit columns: who made and changed a row, and soft delete. */
export class AuditedEntity extends Entity {
  @property({
    type: 'date',
    ...column('created_on'),
  })
  createdOn?: Date;

  @property({
    type: 'date',
    ...column('modified_on'),
  })
  modifiedOn?: Date;

  @property({type: 'string', ...column('created_by')})
  createdBy?: string;

  @property({type: 'string', ...column('modified_by')})
  modifiedBy?: string;

  @property({
    type: 'boolean',
    default: false,
    ...column('deleted'),
  })
  deleted?: boolean;

  @property({type: 'date', ...column('deleted_on')})
  deletedOn?: Date;

  @property({type: 'string', ...column('deleted_by')})
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
