import {inject} from '@loopback/core';
import {juggler, Options} from '@loopback/repository';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {PendingUserTask} from '../interfaces';
import {UserTask, UserTaskRelations, UserTaskStatus} from '../models';
import {TaskUser} from '../types';
import {
  AuditedCrudRepository,
  CurrentUserGetter,
} from './audited-crud.repository';
import {TaskSqlBindings} from '../sql';

export class UserTaskRepository extends AuditedCrudRepository<
  UserTask,
  typeof UserTask.prototype.id,
  UserTaskRelations
> {
  constructor(
    @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: juggler.DataSource,
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
