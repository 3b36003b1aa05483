import {inject} from '@loopback/core';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../../../keys';
import {ClientApp} from '../models';
import {TaskUser} from '../../../types';
import {
  CurrentUserGetter,
  JUGGLER_REPOSITORIES,
  RepositoryBases,
} from '../../../repositories';
import {TaskDataSource, TaskSqlBindings} from '../../../sql';

/** `ClientAppRepository` on the given bases (juggler or Sequelize). */
export function defineClientAppRepository(bases: RepositoryBases) {
  class ClientAppRepository extends bases.Audited<
    ClientApp,
    typeof ClientApp.prototype.id
  > {
    constructor(
      @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: TaskDataSource,
      @inject.getter(SecurityBindings.USER, {optional: true})
      getCurrentUser: CurrentUserGetter,
      @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
    ) {
      super(ClientApp, dataSource, getCurrentUser, systemUser);
    }
  }
  return ClientAppRepository;
}

export class ClientAppRepository extends defineClientAppRepository(
  JUGGLER_REPOSITORIES,
) {}
