import {belongsTo, model, property} from '@loopback/repository';
import {AuditedEntity, column, serviceTable, uuidId} from '../../../models';
import {ClientApp} from './client-app.model';

@model({
  name: 'webhook_subscriptions',
  settings: {...serviceTable('webhook_subscriptions'), strict: true},
})
export class WebhookSubscription extends AuditedEntity {
  @property(uuidId())
  id?: string;

  /** The event key this subscription receives. */
  @property({type: 'string', required: true, ...column('key')})
  key: string;

  @property({type: 'string', required: true, ...column('url')})
  url: string;

  /** The client app that subscribed; its secret signs the deliveries. */
  @belongsTo(
    () => ClientApp,
    {name: 'clientApp'},
    {
      type: 'string',
      required: true,
      ...column('client_app_id', 'uuid'),
    },
  )
  clientAppId: string;

  constructor(data?: Partial<WebhookSubscription>) {
    super(data);
  }
}
