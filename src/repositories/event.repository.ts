import {inject} from '@loopback/core';
import {juggler} from '@loopback/repository';
import {Event} from '../models';
import {TaskSqlBindings} from '../sql';
import {ServiceTableRepository} from './service-table.repository';

/** Model classes whose `timestamp` is already converted on load. */
const numericTimestamps = new WeakSet<object>();

export class EventRepository extends ServiceTableRepository<
  Event,
  typeof Event.prototype.id,
  {}
> {
  constructor(
    @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: juggler.DataSource,
  ) {
    super(Event, dataSource);
    // The datasource's model class is shared by every repository instance
    // (one per request): its observer is registered once, not per instance.
    if (!numericTimestamps.has(this.modelClass)) {
      numericTimestamps.add(this.modelClass);
      // PostgreSQL hands bigint columns over as strings; the model says number.
      this.modelClass.observe('loaded', async ctx => {
        if (ctx.data?.timestamp != null) {
          ctx.data.timestamp = Number(ctx.data.timestamp);
        }
      });
    }
  }
}
