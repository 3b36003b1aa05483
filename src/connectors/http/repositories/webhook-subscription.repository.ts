import {WebhookSubscription} from '../models';
import {
  auditedTableOn,
  JUGGLER_REPOSITORIES,
  RepositoryBases,
} from '../../../repositories';

/** `WebhookSubscriptionRepository` on the given bases (juggler or Sequelize). */
export function defineWebhookSubscriptionRepository(bases: RepositoryBases) {
  class WebhookSubscriptionRepository extends auditedTableOn<
    WebhookSubscription,
    typeof WebhookSubscription.prototype.id
  >(bases, WebhookSubscription) {}
  return WebhookSubscriptionRepository;
}

export class WebhookSubscriptionRepository extends defineWebhookSubscriptionRepository(
  JUGGLER_REPOSITORIES,
) {}
