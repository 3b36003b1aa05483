import {Entity, model, property} from '@loopback/repository';
import {pgTable, uuidId} from '../../../models';

/** One POST of a webhook delivery and what came of it. */
@model({
  name: 'webhook_delivery_attempts',
  settings: {...pgTable('webhook_delivery_attempts'), strict: true},
})
export class WebhookDeliveryAttempt extends Entity {
  @property(uuidId())
  id?: string;

  @property({
    type: 'string',
    required: true,
    postgresql: {columnName: 'delivery_id', dataType: 'uuid'},
  })
  deliveryId: string;

  /** 1 for the first attempt ever, counting on across re-queues. */
  @property({
    type: 'number',
    required: true,
    postgresql: {columnName: 'attempt_no', dataType: 'integer'},
  })
  attemptNo: number;

  /** The receiver's HTTP status; absent when no response came. */
  @property({
    type: 'number',
    postgresql: {columnName: 'status_code', dataType: 'integer'},
  })
  statusCode?: number;

  @property({type: 'string', postgresql: {columnName: 'error'}})
  error?: string;

  @property({
    type: 'number',
    required: true,
    postgresql: {columnName: 'duration_ms', dataType: 'integer'},
  })
  durationMs: number;

  /** The worker instance that made the attempt. */
  @property({type: 'string', postgresql: {columnName: 'worker'}})
  worker?: string;

  @property({type: 'date', postgresql: {columnName: 'attempted_on'}})
  attemptedOn?: Date;

  constructor(data?: Partial<WebhookDeliveryAttempt>) {
    super(data);
  }
}
