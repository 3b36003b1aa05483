import {inject} from '@loopback/core';
import {juggler, Options} from '@loopback/repository';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {UserTask, UserTaskRelations} from '../models';
import {TaskDbSourceName, TaskUser} from '../types';
import {
  AuditedCrudRepository,
  CurrentUserGetter,
} from './audited-crud.repository';

export class UserTaskRepository extends AuditedCrudRepository<
  UserTask,
  typeof UserTask.prototype.id,
  UserTaskRelations
> {
  constructor(
    @inject(`datasources.${TaskDbSourceName}`) dataSource: juggler.DataSource,
    @inject.getter(SecurityBindings.USER, {optional: true})
    getCurrentUser: CurrentUserGetter,
    @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
  ) {
    super(UserTask, dataSource, getCurrentUser, systemUser);
  }

  /**
   * Records engine user tasks of a task, each at most once: a row whose
   * `externalId` is already there (another sync got to it first) is
   * skipped, not an error. Returns the rows it created.
   */
  async recordPending(
    taskId: string,
    pending: {id: string; name: string}[],
    options?: Options,
  ): Promise<UserTask[]> {
    if (!pending.length) return [];
    const actor = await this.actorId();
    const params: unknown[] = [taskId, actor];
    const values = pending.map(p => {
      params.push(p.name, p.id);
      return `($1, $${params.length - 1}, 'pending', $${params.length}, $2, $2)`;
    });
    const rows = (await this.dataSource.execute(
      `INSERT INTO main.user_tasks (task_id, name, status, external_id, created_by, modified_by)
       VALUES ${values.join(', ')}
       ON CONFLICT (external_id) DO NOTHING
       RETURNING id`,
      params,
      options,
    )) as {id: string}[];
    if (!rows.length) return [];
    return this.find({where: {id: {inq: rows.map(r => r.id)}}}, options);
  }
}
