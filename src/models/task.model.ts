import {AnyObject, hasMany, model, property} from '@loopback/repository';
import {AuditedEntity} from './audited-entity.model';
import {column, serviceTable, uuidId} from './schema';
import {TaskPriority, TaskSeverity, TaskStatus} from './enums';
import {UserTask, UserTaskWithRelations} from './user-task.model';

@model({name: 'tasks', settings: {...serviceTable('tasks'), strict: true}})
export class Task extends AuditedEntity {
  @property(uuidId())
  id?: string;

  @property({
    type: 'string',
    required: true,
    jsonSchema: {maxLength: 255},
    ...column('key'),
  })
  key: string;

  @property({
    type: 'string',
    required: true,
    jsonSchema: {maxLength: 500},
    ...column('name'),
  })
  name: string;

  @property({type: 'string', ...column('description')})
  description?: string;

  @property({
    type: 'string',
    default: TaskStatus.Pending,
    jsonSchema: {enum: Object.values(TaskStatus)},
    ...column('status'),
  })
  status?: TaskStatus;

  @property({
    type: 'string',
    jsonSchema: {enum: Object.values(TaskPriority)},
    ...column('priority'),
  })
  priority?: TaskPriority;

  @property({
    type: 'string',
    jsonSchema: {enum: Object.values(TaskSeverity)},
    ...column('severity'),
  })
  severity?: TaskSeverity;

  @property({
    type: 'string',
    jsonSchema: {maxLength: 255},
    ...column('type'),
  })
  type?: string;

  @property({type: 'date', ...column('start_date')})
  startDate?: Date;

  @property({type: 'date', ...column('due_date')})
  dueDate?: Date;

  @property({type: 'date', ...column('end_date')})
  endDate?: Date;

  @property({
    type: 'string',
    jsonSchema: {maxLength: 255},
    ...column('assignee_id'),
  })
  assigneeId?: string;

  @property({
    type: 'object',
    ...column('metadata', 'json'),
  })
  metadata?: AnyObject;

  /** The id of the workflow instance that drives this task. */
  @property({
    type: 'string',
    jsonSchema: {maxLength: 255},
    ...column('external_id'),
  })
  externalId?: string;

  @hasMany(() => UserTask, {keyTo: 'taskId'})
  userTasks?: UserTask[];

  constructor(data?: Partial<Task>) {
    super(data);
  }
}

export interface TaskRelations {
  userTasks?: UserTaskWithRelations[];
}

export type TaskWithRelations = Task & TaskRelations;
