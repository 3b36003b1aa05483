import {inject} from '@loopback/core';
import {DefaultCrudRepository, juggler} from '@loopback/repository';
import {TaskDbSourceName} from '../../../types';
import {WebhookDeliveryAttempt} from '../models';

export class WebhookDeliveryAttemptRepository extends DefaultCrudRepository<
  WebhookDeliveryAttempt,
  typeof WebhookDeliveryAttempt.prototype.id
> {
  constructor(
    @inject(`datasources.${TaskDbSourceName}`) dataSource: juggler.DataSource,
  ) {
    super(WebhookDeliveryAttempt, dataSource);
  }
}
