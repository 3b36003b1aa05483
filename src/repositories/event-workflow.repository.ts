import {inject} from '@loopback/core';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {EventWorkflow} from '../models';
import {TaskUser} from '../types';
import {CurrentUserGetter} from './audited-crud.repository';
import {JUGGLER_REPOSITORIES, RepositoryBases} from './bases';
import {TaskDataSource, TaskSqlBindings} from '../sql';

/** `EventWorkflowRepository` on the given bases (juggler or Sequelize). */
export function defineEventWorkflowRepository(bases: RepositoryBases) {
  class EventWorkflowRepository extends bases.Audited<
    EventWorkflow,
    typeof EventWorkflow.prototype.id
  > {
    constructor(
      @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: TaskDataSource,
      @inject.getter(SecurityBindings.USER, {optional: true})
      getCurrentUser: CurrentUserGetter,
      @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
    ) {
      super(EventWorkflow, dataSource, getCurrentUser, systemUser);
    }
  }
  return EventWorkflowRepository;
}

export class EventWorkflowRepository extends defineEventWorkflowRepository(
  JUGGLER_REPOSITORIES,
) {}
