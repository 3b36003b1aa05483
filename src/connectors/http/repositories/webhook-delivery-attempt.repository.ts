import {inject} from '@loopback/core';
import {DefaultCrudRepository, juggler} from '@loopback/repository';
import {WebhookDeliveryAttempt} from '../models';
import {TaskSqlBindings} from '../../../sql';

export class WebhookDeliveryAttemptRepository extends DefaultCrudRepository<
  WebhookDeliveryAttempt,
  typeof WebhookDeliveryAttempt.prototype.id
> {
  constructor(
    @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: juggler.DataSource,
  ) {
    super(WebhookDeliveryAttempt, dataSource);
  }
}
