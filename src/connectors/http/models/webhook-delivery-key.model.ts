import {Entity, model, property} from '@loopback/repository';
import {pgTable} from '../../../models';

/**
 * An ordering key (a task id) of a webhook delivery not yet delivered, with
 * the receiver it goes to. A delivery is claimed only when no earlier
 * delivery to the same receiver sharing one of its keys is still here; the
 * row goes when its delivery is delivered. Written and read through
 * `WebhookDeliveryStore`.
 */
@model({
  name: 'webhook_delivery_keys',
  settings: {...pgTable('webhook_delivery_keys'), strict: true},
})
export class WebhookDeliveryKey extends Entity {
  @property({
    type: 'string',
    id: 1,
    required: true,
    postgresql: {columnName: 'delivery_id', dataType: 'uuid'},
  })
  deliveryId: string;

  /** Hex SHA-256 of the client app id and the url the delivery goes to. */
  @property({
    type: 'string',
    required: true,
    postgresql: {columnName: 'receiver'},
  })
  receiver: string;

  @property({
    type: 'string',
    id: 2,
    required: true,
    postgresql: {columnName: 'ordering_key'},
  })
  orderingKey: string;

  /** The delivery's `seq`. */
  @property({
    type: 'number',
    required: true,
    postgresql: {columnName: 'seq', dataType: 'bigint'},
  })
  seq: number;

  constructor(data?: Partial<WebhookDeliveryKey>) {
    super(data);
  }
}
