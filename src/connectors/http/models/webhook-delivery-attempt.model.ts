import {Entity, model, property} from '@loopback/repository';
import {column, serviceTable, uuidId} from '../../../models';

/** One POST of a webhook delivery and what came of it. */
@model({
  name: 'webhook_delivery_attempts',
  settings: {...serviceTable('webhook_delivery_attempts'), strict: true},
})
export class WebhookDeliveryAttempt extends Entity {
  @property(uuidId())
  id?: string;

  @property({
    type: 'string',
    required: true,
    ...column('delivery_id', 'uuid'),
  })
  deliveryId: string;

  /** 1 for the first attempt ever, counting on across re-queues. */
  @property({
    type: 'number',
    required: true,
    ...column('attempt_no', 'integer'),
  })
  attemptNo: number;

  /** The receiver's HTTP status; absent when no response came. */
  @property({
    type: 'number',
    ...column('status_code', 'integer'),
  })
  statusCode?: number;

  @property({type: 'string', ...column('error')})
  error?: string;

  @property({
    type: 'number',
    required: true,
    ...column('duration_ms', 'integer'),
  })
  durationMs: number;

  /** The worker instance that made the attempt. */
  @property({type: 'string', ...column('worker')})
  worker?: string;

  @property({type: 'date', ...column('attempted_on')})
  attemptedOn?: Date;

  constructor(data?: Partial<WebhookDeliveryAttempt>) {
    super(data);
  }
}
