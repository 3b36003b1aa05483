import {Getter, inject} from '@loopback/core';
import {HasManyRepositoryFactory, repository} from '@loopback/repository';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {Task, TaskRelations, UserTask} from '../models';
import {TaskUser} from '../types';
import {CurrentUserGetter} from './audited-crud.repository';
import {JUGGLER_REPOSITORIES, RepositoryBases} from './bases';
import {UserTaskRepository} from './user-task.repository';
import {TaskDataSource, TaskSqlBindings} from '../sql';

/** `TaskRepository` on the given bases (juggler or Sequelize). */
export function defineTaskRepository(bases: RepositoryBases) {
  class TaskRepository extends bases.Audited<
    Task,
    typeof Task.prototype.id,
    TaskRelations
  > {
    readonly userTasks: HasManyRepositoryFactory<
      UserTask,
      typeof Task.prototype.id
    >;

    constructor(
      @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: TaskDataSource,
      @inject.getter(SecurityBindings.USER, {optional: true})
      getCurrentUser: CurrentUserGetter,
      @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
      @repository.getter(UserTaskRepository)
      userTaskRepositoryGetter: Getter<UserTaskRepository>,
    ) {
      super(Task, dataSource, getCurrentUser, systemUser);
      this.userTasks = this.createHasManyRepositoryFactoryFor(
        'userTasks',
        userTaskRepositoryGetter,
      );
      this.registerInclusionResolver(
        'userTasks',
        this.userTasks.inclusionResolver,
      );
    }
  }
  return TaskRepository;
}

export class TaskRepository extends defineTaskRepository(
  JUGGLER_REPOSITORIES,
) {}
