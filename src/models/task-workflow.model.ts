import {model, property} from '@loopback/repository';
import {AuditedEntity} from './audited-entity.model';
import {column, serviceTable, uuidId} from './schema';

/** Maps a task key to the workflow that drives each task of that key. */
@model({
  name: 'task_workflows',
  settings: {...serviceTable('task_workflows'), strict: true},
})
export class TaskWorkflow extends AuditedEntity {
  @property(uuidId())
  id?: string;

  /** The workflow's `externalIdentifier`. */
  @property({
    type: 'string',
    required: true,
    jsonSchema: {maxLength: 255},
    ...column('workflow_key'),
  })
  workflowKey: string;

  @property({
    type: 'string',
    required: true,
    jsonSchema: {maxLength: 255},
    ...column('task_key'),
  })
  taskKey: string;

  constructor(data?: Partial<TaskWorkflow>) {
    super(data);
  }
}
