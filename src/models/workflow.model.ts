import {AnyObject, hasMany, model, property} from '@loopback/repository';
import {AuditedEntity} from './audited-entity.model';
import {pgTable, uuidId} from './schema';
import {WorkflowVersion} from './workflow-version.model';

@model({name: 'workflows', settings: {...pgTable('workflows'), strict: true}})
export class Workflow extends AuditedEntity {
  @property(uuidId())
  id?: string;

  /** The newest version. */
  @property({
    type: 'number',
    required: true,
    postgresql: {columnName: 'workflow_version', dataType: 'integer'},
  })
  workflowVersion: number;

  @property({type: 'string', required: true, postgresql: {columnName: 'name'}})
  name: string;

  @property({type: 'string', postgresql: {columnName: 'description'}})
  description?: string;

  /** The engine's id of the newest deployed definition. */
  @property({
    type: 'string',
    required: true,
    postgresql: {columnName: 'external_identifier'},
  })
  externalIdentifier: string;

  @property({type: 'string', postgresql: {columnName: 'provider'}})
  provider?: string;

  @property({
    type: 'object',
    postgresql: {columnName: 'inputschema', dataType: 'json'},
  })
  inputSchema?: AnyObject;

  @hasMany(() => WorkflowVersion, {keyTo: 'workflowId'})
  workflowVersions: WorkflowVersion[];

  constructor(data?: Partial<Workflow>) {
    super(data);
  }
}

export interface WorkflowRelations {
  workflowVersions?: WorkflowVersion[];
}

export type WorkflowWithRelations = Workflow & WorkflowRelations;
