import {AnyObject, hasMany, model, property} from '@loopback/repository';
import {AuditedEntity} from './audited-entity.model';
import {pgTable, uuidId} from './schema';
import {TaskPriority, TaskSeverity, TaskStatus} from './enums';
import {UserTask, UserTaskWithRelations} from './user-task.model';

@model({name: 'tasks', settings: {...pgTable('tasks'), strict: true}})
export class Task extends AuditedEntity {
  @property(uuidId())
  id?: string;

  @property({
    type: 'string',
    required: true,
    jsonSchema: {maxLength: 255},
    postgresql: {columnName: 'key'},
  })
  key: string;

  @property({
    type: 'string',
    required: true,
    jsonSchema: {maxLength: 500},
    postgresql: {columnName: 'name'},
  })
  name: string;

  @property({type: 'string', postgresql: {columnName: 'description'}})
  description?: string;

  @property({
    type: 'string',
    default: TaskStatus.Pending,
    jsonSchema: {enum: Object.values(TaskStatus)},
    postgresql: {columnName: 'status'},
  })
  status?: TaskStatus;

  @property({
    type: 'string',
    jsonSchema: {enum: Object.values(TaskPriority)},
    postgresql: {columnName: 'priority'},
  })
  priority?: TaskPriority;

  @property({
    type: 'string',
    jsonSchema: {enum: Object.values(TaskSeverity)},
    postgresql: {columnName: 'severity'},
  })
  severity?: TaskSeverity;

  @property({
    type: 'string',
    jsonSchema: {maxLength: 255},
    postgresql: {columnName: 'type'},
  })
  type?: string;

  @property({type: 'date', postgresql: {columnName: 'start_date'}})
  startDate?: Date;

  @property({type: 'date', postgresql: {columnName: 'due_date'}})
  dueDate?: Date;

  @property({type: 'date', postgresql: {columnName: 'end_date'}})
  endDate?: Date;

  @property({
    type: 'string',
    jsonSchema: {maxLength: 255},
    postgresql: {columnName: 'assignee_id'},
  })
  assigneeId?: string;

  @property({
    type: 'object',
    postgresql: {columnName: 'metadata', dataType: 'json'},
  })
  metadata?: AnyObject;

  /** The id of the workflow instance that drives this task. */
  @property({
    type: 'string',
    jsonSchema: {maxLength: 255},
    postgresql: {columnName: 'external_id'},
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
