import {Getter, inject} from '@loopback/core';
import {
  HasManyRepositoryFactory,
  juggler,
  repository,
} from '@loopback/repository';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {Task, TaskRelations, UserTask} from '../models';
import {TaskUser} from '../types';
import {
  AuditedCrudRepository,
  CurrentUserGetter,
} from './audited-crud.repository';
import {UserTaskRepository} from './user-task.repository';
import {TaskSqlBindings} from '../sql';

export class TaskRepository extends AuditedCrudRepository<
  Task,
  typeof Task.prototype.id,
  TaskRelations
> {
  readonly userTasks: HasManyRepositoryFactory<
    UserTask,
    typeof Task.prototype.id
  >;

  constructor(
    @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: juggler.DataSource,
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
