import {belongsTo, model, property} from '@loopback/repository';
import {AuditedEntity} from './audited-entity.model';
import {column, serviceTable, uuidId} from './schema';
import {UserTaskStatus} from './enums';
import {Task, TaskWithRelations} from './task.model';

@model({
  name: 'user_tasks',
  settings: {...serviceTable('user_tasks'), strict: true},
})
export class UserTask extends AuditedEntity {
  @property(uuidId())
  id?: string;

  @property({type: 'string', required: true, ...column('name')})
  name: string;

  @property({
    type: 'string',
    default: UserTaskStatus.Pending,
    jsonSchema: {enum: Object.values(UserTaskStatus)},
    ...column('status'),
  })
  status?: UserTaskStatus;

  /** The engine's id of this user task. */
  @property({type: 'string', ...column('external_id')})
  externalId?: string;

  @belongsTo(
    () => Task,
    {name: 'task'},
    {
      type: 'string',
      required: true,
      ...column('task_id', 'uuid'),
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
