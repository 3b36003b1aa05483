import {inject} from '@loopback/core';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {TaskWorkflow} from '../models';
import {TaskUser} from '../types';
import {CurrentUserGetter} from './audited-crud.repository';
import {JUGGLER_REPOSITORIES, RepositoryBases} from './bases';
import {TaskDataSource, TaskSqlBindings} from '../sql';

/** `TaskWorkflowRepository` on the given bases (juggler or Sequelize). */
export function defineTaskWorkflowRepository(bases: RepositoryBases) {
  class TaskWorkflowRepository extends bases.Audited<
    TaskWorkflow,
    typeof TaskWorkflow.prototype.id
  > {
    constructor(
      @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: TaskDataSource,
      @inject.getter(SecurityBindings.USER, {optional: true})
      getCurrentUser: CurrentUserGetter,
      @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
    ) {
      super(TaskWorkflow, dataSource, getCurrentUser, systemUser);
    }
  }
  return TaskWorkflowRepository;
}

export class TaskWorkflowRepository extends defineTaskWorkflowRepository(
  JUGGLER_REPOSITORIES,
) {}
