import {inject} from '@loopback/core';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../../../keys';
import {WebhookSubscription} from '../models';
import {TaskUser} from '../../../types';
import {
  CurrentUserGetter,
  JUGGLER_REPOSITORIES,
  RepositoryBases,
} from '../../../repositories';
import {TaskDataSource, TaskSqlBindings} from '../../../sql';

/** `WebhookSubscriptionRepository` on the given bases (juggler or Sequelize). */
export function defineWebhookSubscriptionRepository(bases: RepositoryBases) {
  class WebhookSubscriptionRepository extends bases.Audited<
    WebhookSubscription,
    typeof WebhookSubscription.prototype.id
  > {
    constructor(
      @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: TaskDataSource,
      @inject.getter(SecurityBindings.USER, {optional: true})
      getCurrentUser: CurrentUserGetter,
      @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
    ) {
      super(WebhookSubscription, dataSource, getCurrentUser, systemUser);
    }
  }
  return WebhookSubscriptionRepository;
}

export class WebhookSubscriptionRepository extends defineWebhookSubscriptionRepository(
  JUGGLER_REPOSITORIES,
) {}
