import {Options} from '@loopback/repository';
import {PendingUserTask} from '../interfaces';
import {UserTask, UserTaskRelations, UserTaskStatus} from '../models';
import {auditedTableOn, JUGGLER_REPOSITORIES, RepositoryBases} from './bases';

/** `UserTaskRepository` on the given bases (juggler or Sequelize). */
export function defineUserTaskRepository(bases: RepositoryBases) {
  class UserTaskRepository extends auditedTableOn<
    UserTask,
    typeof UserTask.prototype.id,
    UserTaskRelations
  >(bases, UserTask) {
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
