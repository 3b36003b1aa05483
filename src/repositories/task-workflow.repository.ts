import {inject} from '@loopback/core';
import {juggler} from '@loopback/repository';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {TaskWorkflow} from '../models';
import {TaskUser} from '../types';
import {
  AuditedCrudRepository,
  CurrentUserGetter,
} from './audited-crud.repository';
import {TaskSqlBindings} from '../sql';

export class TaskWorkflowRepository extends AuditedCrudRepository<
  TaskWorkflow,
  typeof TaskWorkflow.prototype.id
> {
  constructor(
    @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: juggler.DataSource,
    @inject.getter(SecurityBindings.USER, {optional: true})
    getCurrentUser: CurrentUserGetter,
    @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
  ) {
    super(TaskWorkflow, dataSource, getCurrentUser, systemUser);
  }
}
