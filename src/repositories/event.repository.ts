import {inject} from '@loopback/core';
import {DefaultTransactionalRepository, juggler} from '@loopback/repository';
import {Event} from '../models';
import {TaskDbSourceName} from '../types';

export class EventRepository extends DefaultTransactionalRepository<
  Event,
  typeof Event.prototype.id,
  {}
> {
  constructor(
    @inject(`datasources.${TaskDbSourceName}`) dataSource: juggler.DataSource,
  ) {
    super(Event, dataSource);
    // PostgreSQL hands bigint columns over as strings; the model says number.
    this.modelClass.observe('loaded', async ctx => {
      if (ctx.data?.timestamp != null) {
        ctx.data.timestamp = Number(ctx.data.timestamp);
      }
    });
  }
}
