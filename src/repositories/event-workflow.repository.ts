import {inject} from '@loopback/core';
import {juggler} from '@loopback/repository';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {EventWorkflow} from '../models';
import {TaskUser} from '../types';
import {
  AuditedCrudRepository,
  CurrentUserGetter,
} from './audited-crud.repository';
import {TaskSqlBindings} from '../sql';

export class EventWorkflowRepository extends AuditedCrudRepository<
  EventWorkflow,
  typeof EventWorkflow.prototype.id
> {
  constructor(
    @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: juggler.DataSource,
    @inject.getter(SecurityBindings.USER, {optional: true})
    getCurrentUser: CurrentUserGetter,
    @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
  ) {
    super(EventWorkflow, dataSource, getCurrentUser, systemUser);
  }
}
