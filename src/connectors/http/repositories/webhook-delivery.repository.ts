import {Getter, inject} from '@loopback/core';
import {
  HasManyRepositoryFactory,
  juggler,
  repository,
} from '@loopback/repository';
import {
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookDeliveryRelations,
} from '../models';
import {WebhookDeliveryAttemptRepository} from './webhook-delivery-attempt.repository';
import {TaskSqlBindings} from '../../../sql';
import {ServiceTableRepository} from '../../../repositories';

/**
 * Reads of deliveries and their attempts. The worker's claim and outcome
 * writes are SQL of their own (`WebhookDeliveryStore`), for the row locks.
 */
export class WebhookDeliveryRepository extends ServiceTableRepository<
  WebhookDelivery,
  typeof WebhookDelivery.prototype.id,
  WebhookDeliveryRelations
> {
  readonly attemptLog: HasManyRepositoryFactory<
    WebhookDeliveryAttempt,
    typeof WebhookDelivery.prototype.id
  >;

  constructor(
    @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: juggler.DataSource,
    @repository.getter(WebhookDeliveryAttemptRepository)
    getAttempts: Getter<WebhookDeliveryAttemptRepository>,
  ) {
    super(WebhookDelivery, dataSource);
    this.attemptLog = this.createHasManyRepositoryFactoryFor(
      'attemptLog',
      getAttempts,
    );
    this.registerInclusionResolver(
      'attemptLog',
      this.attemptLog.inclusionResolver,
    );
  }
}
