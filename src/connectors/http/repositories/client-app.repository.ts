import {inject} from '@loopback/core';
import {juggler} from '@loopback/repository';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../../../keys';
import {ClientApp} from '../models';
import {TaskUser} from '../../../types';
import {AuditedCrudRepository, CurrentUserGetter} from '../../../repositories';
import {TaskSqlBindings} from '../../../sql';

export class ClientAppRepository extends AuditedCrudRepository<
  ClientApp,
  typeof ClientApp.prototype.id
> {
  constructor(
    @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: juggler.DataSource,
    @inject.getter(SecurityBindings.USER, {optional: true})
    getCurrentUser: CurrentUserGetter,
    @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
  ) {
    super(ClientApp, dataSource, getCurrentUser, systemUser);
  }
}
