import {belongsTo, model, property} from '@loopback/repository';
import {AuditedEntity} from './audited-entity.model';
import {pgTable, uuidId} from './schema';
import {UserTaskStatus} from './enums';
import {Task, TaskWithRelations} from './task.model';

@model({name: 'user_tasks', settings: {...pgTable('user_tasks'), strict: true}})
export class UserTask extends AuditedEntity {
  @property(uuidId())
  id?: string;

  @property({type: 'string', required: true, postgresql: {columnName: 'name'}})
  name: string;

  @property({
    type: 'string',
    default: UserTaskStatus.Pending,
    jsonSchema: {enum: Object.values(UserTaskStatus)},
    postgresql: {columnName: 'status'},
  })
  status?: UserTaskStatus;

  /** The engine's id of this user task. */
  @property({type: 'string', postgresql: {columnName: 'external_id'}})
  externalId?: string;

  @belongsTo(
    () => Task,
    {name: 'task'},
    {
      type: 'string',
      required: true,
      postgresql: {columnName: 'task_id', dataType: 'uuid'},
    },
  )
  taskId: string;

  constructor(data?: Partial<UserTask>) {
    super(data);
  }
}

export interface UserTaskRelations {
  task?: TaskWithRelations;
}

export type UserTaskWithRelations = UserTask & UserTaskRelations;
