import {inject} from '@loopback/core';
import {Event} from '../models';
import {TaskDataSource, TaskSqlBindings} from '../sql';
import {JUGGLER_REPOSITORIES, RepositoryBases} from './bases';

/** `EventRepository` on the given bases (juggler or Sequelize). */
export function defineEventRepository(bases: RepositoryBases) {
  class EventRepository extends bases.ServiceTable<
    Event,
    typeof Event.prototype.id,
    {}
  > {
    constructor(
      @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: TaskDataSource,
    ) {
      // `timestamp` is a bigint: both bases hand it over as a number.
      super(Event, dataSource);
    }
  }
  return EventRepository;
}

export class EventRepository extends defineEventRepository(
  JUGGLER_REPOSITORIES,
) {}
