import {inject} from '@loopback/core';
import {juggler} from '@loopback/repository';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../../../keys';
import {WebhookSubscription} from '../models';
import {TaskUser} from '../../../types';
import {AuditedCrudRepository, CurrentUserGetter} from '../../../repositories';
import {TaskSqlBindings} from '../../../sql';

export class WebhookSubscriptionRepository extends AuditedCrudRepository<
  WebhookSubscription,
  typeof WebhookSubscription.prototype.id
> {
  constructor(
    @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: juggler.DataSource,
    @inject.getter(SecurityBindings.USER, {optional: true})
    getCurrentUser: CurrentUserGetter,
    @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
  ) {
    super(WebhookSubscription, dataSource, getCurrentUser, systemUser);
  }
}
