import {inject} from '@loopback/core';
import {WebhookDeliveryAttempt} from '../models';
import {JUGGLER_REPOSITORIES, RepositoryBases} from '../../../repositories';
import {TaskDataSource, TaskSqlBindings} from '../../../sql';

/** `WebhookDeliveryAttemptRepository` on the given bases (juggler or Sequelize). */
export function defineWebhookDeliveryAttemptRepository(bases: RepositoryBases) {
  class WebhookDeliveryAttemptRepository extends bases.ServiceTable<
    WebhookDeliveryAttempt,
    typeof WebhookDeliveryAttempt.prototype.id
  > {
    constructor(
      @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: TaskDataSource,
    ) {
      super(WebhookDeliveryAttempt, dataSource);
    }
  }
  return WebhookDeliveryAttemptRepository;
}

export class WebhookDeliveryAttemptRepository extends defineWebhookDeliveryAttemptRepository(
  JUGGLER_REPOSITORIES,
) {}
