import {belongsTo, model, property} from '@loopback/repository';
import {AuditedEntity, pgTable, uuidId} from '../../../models';
import {ClientApp} from './client-app.model';

@model({
  name: 'webhook_subscriptions',
  settings: {...pgTable('webhook_subscriptions'), strict: true},
})
export class WebhookSubscription extends AuditedEntity {
  @property(uuidId())
  id?: string;

  /** The event key this subscription receives. */
  @property({type: 'string', required: true, postgresql: {columnName: 'key'}})
  key: string;

  @property({type: 'string', required: true, postgresql: {columnName: 'url'}})
  url: string;

  /** The client app that subscribed; its secret signs the deliveries. */
  @belongsTo(
    () => ClientApp,
    {name: 'clientApp'},
    {
      type: 'string',
      required: true,
      postgresql: {columnName: 'client_app_id', dataType: 'uuid'},
    },
  )
  clientAppId: string;

  constructor(data?: Partial<WebhookSubscription>) {
    super(data);
  }
}
