import {sqlStoreProvider} from '../../../sql';
import {MySqlWebhookDeliveryStore} from './mysql/webhook-delivery.store';
import {PostgresWebhookDeliveryStore} from './postgresql/webhook-delivery.store';
import {WebhookDeliveryStore} from './webhook-delivery.store';

/** The webhook delivery store for the task datasource's dialect. */
export const WebhookDeliveryStoreProvider =
  sqlStoreProvider<WebhookDeliveryStore>({
    postgresql: PostgresWebhookDeliveryStore,
    mysql: MySqlWebhookDeliveryStore,
  });
