import {AnyObject, hasMany, model, property} from '@loopback/repository';
import {AuditedEntity} from './audited-entity.model';
import {column, serviceTable, uuidId} from './schema';
import {WorkflowVersion} from './workflow-version.model';

@model({
  name: 'workflows',
  settings: {...serviceTable('workflows'), strict: true},
})
export class Workflow extends AuditedEntity {
  @property(uuidId())
  id?: string;

  /** The newest version. */
  @property({
    type: 'number',
    required: true,
    ...column('workflow_version', 'integer'),
  })
  workflowVersion: number;

  @property({type: 'string', required: true, ...column('name')})
  name: string;

  @property({type: 'string', ...column('description')})
  description?: string;

  /** The engine's id of the newest deployed definition. */
  @property({
    type: 'string',
    required: true,
    ...column('external_identifier'),
  })
  externalIdentifier: string;

  @property({type: 'string', ...column('provider')})
  provider?: string;

  @property({
    type: 'object',
    ...column('inputschema', 'json'),
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
