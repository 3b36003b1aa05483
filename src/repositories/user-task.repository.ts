import {inject} from '@loopback/core';
import {Options} from '@loopback/repository';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {PendingUserTask} from '../interfaces';
import {UserTask, UserTaskRelations, UserTaskStatus} from '../models';
import {TaskUser} from '../types';
import {CurrentUserGetter} from './audited-crud.repository';
import {JUGGLER_REPOSITORIES, RepositoryBases} from './bases';
import {TaskDataSource, TaskSqlBindings} from '../sql';

/** `UserTaskRepository` on the given bases (juggler or Sequelize). */
export function defineUserTaskRepository(bases: RepositoryBases) {
  class UserTaskRepository extends bases.Audited<
    UserTask,
    typeof UserTask.prototype.id,
    UserTaskRelations
  > {
    constructor(
      @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: TaskDataSource,
      @inject.getter(SecurityBindings.USER, {optional: true})
      getCurrentUser: CurrentUserGetter,
      @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
    ) {
      super(UserTask, dataSource, getCurrentUser, systemUser);
    }

    /**
     * Records engine user tasks of a task, each at most once: one whose
     * `externalId` is already there (another sync got to it first) is
     * skipped, not an error. Returns the rows it created.
     */
    async recordPending(
      taskId: string,
      pending: PendingUserTask[],
      options?: Options,
    ): Promise<UserTask[]> {
      const created: UserTask[] = [];
      for (const {id, name} of pending) {
        const row = await this.createUnlessDuplicate(
          {taskId, name, externalId: id, status: UserTaskStatus.Pending},
          options,
        );
        if (row) created.push(row);
      }
      return created;
    }
  }
  return UserTaskRepository;
}

export class UserTaskRepository extends defineUserTaskRepository(
  JUGGLER_REPOSITORIES,
) {}
