import {model, property} from '@loopback/repository';
import {AuditedEntity} from './audited-entity.model';
import {column, serviceTable, uuidId} from './schema';

/** Maps an event key to a workflow that every such event starts. */
@model({
  name: 'event_workflows',
  settings: {...serviceTable('event_workflows'), strict: true},
})
export class EventWorkflow extends AuditedEntity {
  @property(uuidId())
  id?: string;

  @property({
    type: 'string',
    required: true,
    jsonSchema: {maxLength: 255},
    ...column('event_key'),
  })
  eventKey: string;

  /** The workflow's `externalIdentifier`. */
  @property({
    type: 'string',
    required: true,
    jsonSchema: {maxLength: 255},
    ...column('workflow_key'),
  })
  workflowKey: string;

  constructor(data?: Partial<EventWorkflow>) {
    super(data);
  }
}
