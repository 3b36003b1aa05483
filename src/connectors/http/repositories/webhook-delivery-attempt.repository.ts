import {inject} from '@loopback/core';
import {juggler} from '@loopback/repository';
import {WebhookDeliveryAttempt} from '../models';
import {ServiceTableRepository} from '../../../repositories';
import {TaskSqlBindings} from '../../../sql';

export class WebhookDeliveryAttemptRepository extends ServiceTableRepository<
  WebhookDeliveryAttempt,
  typeof WebhookDeliveryAttempt.prototype.id
> {
  constructor(
    @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: juggler.DataSource,
  ) {
    super(WebhookDeliveryAttempt, dataSource);
  }
}
