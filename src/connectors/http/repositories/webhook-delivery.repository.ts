import {Getter, inject} from '@loopback/core';
import {HasManyRepositoryFactory, repository} from '@loopback/repository';
import {
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookDeliveryRelations,
} from '../models';
import {WebhookDeliveryAttemptRepository} from './webhook-delivery-attempt.repository';
import {TaskDataSource, TaskSqlBindings} from '../../../sql';
import {JUGGLER_REPOSITORIES, RepositoryBases} from '../../../repositories';

/** `WebhookDeliveryRepository` on the given bases (juggler or Sequelize). */
export function defineWebhookDeliveryRepository(bases: RepositoryBases) {
  class WebhookDeliveryRepository extends bases.ServiceTable<
    WebhookDelivery,
    typeof WebhookDelivery.prototype.id,
    WebhookDeliveryRelations
  > {
    readonly attemptLog: HasManyRepositoryFactory<
      WebhookDeliveryAttempt,
      typeof WebhookDelivery.prototype.id
    >;

    constructor(
      @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: TaskDataSource,
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
  return WebhookDeliveryRepository;
}

/**
 * Reads of deliveries and their attempts. The worker's claim and outcome
 * writes are SQL of their own (`WebhookDeliveryStore`), for the row locks.
 */
export class WebhookDeliveryRepository extends defineWebhookDeliveryRepository(
  JUGGLER_REPOSITORIES,
) {}
