import {
  AnyObject,
  Entity,
  hasMany,
  model,
  property,
} from '@loopback/repository';
import {pgTable, uuidId} from '../../../models';
import {WebhookDeliveryStatus} from '../types';
import {WebhookDeliveryAttempt} from './webhook-delivery-attempt.model';

/** One outgoing event to one subscriber, with its retry state. */
@model({
  name: 'webhook_deliveries',
  settings: {
    ...pgTable('webhook_deliveries'),
    strict: true,
    // Worker bookkeeping, not for clients.
    hiddenProperties: ['lockedUntil', 'lockToken'],
  },
})
export class WebhookDelivery extends Entity {
  /** Sent as `x-task-delivery-id`; the same on every retry. */
  @property(uuidId())
  id?: string;

  /** The order deliveries were queued in. */
  @property({
    type: 'number',
    generated: true,
    postgresql: {columnName: 'seq', dataType: 'bigint'},
  })
  seq?: number;

  @property({
    type: 'string',
    postgresql: {columnName: 'subscription_id', dataType: 'uuid'},
  })
  subscriptionId?: string;

  @property({
    type: 'string',
    required: true,
    postgresql: {columnName: 'client_app_id', dataType: 'uuid'},
  })
  clientAppId: string;

  @property({type: 'string', required: true, postgresql: {columnName: 'url'}})
  url: string;

  @property({
    type: 'string',
    required: true,
    postgresql: {columnName: 'event_key'},
  })
  eventKey: string;

  /** The event as published: `{key, payload, timestamp, source}`. */
  @property({
    type: 'object',
    required: true,
    postgresql: {columnName: 'event', dataType: 'json'},
  })
  event: AnyObject;

  @property({
    type: 'string',
    required: true,
    jsonSchema: {enum: Object.values(WebhookDeliveryStatus)},
    postgresql: {columnName: 'status'},
  })
  status: WebhookDeliveryStatus;

  /** Attempts since the delivery was queued or re-queued. */
  @property({
    type: 'number',
    postgresql: {columnName: 'attempts', dataType: 'integer'},
  })
  attempts?: number;

  @property({
    type: 'number',
    postgresql: {columnName: 'total_attempts', dataType: 'integer'},
  })
  totalAttempts?: number;

  @property({type: 'date', postgresql: {columnName: 'next_attempt_on'}})
  nextAttemptOn?: Date;

  @property({type: 'date', postgresql: {columnName: 'locked_until'}})
  lockedUntil?: Date;

  @property({
    type: 'string',
    postgresql: {columnName: 'lock_token', dataType: 'uuid'},
  })
  lockToken?: string;

  @property({
    type: 'number',
    postgresql: {columnName: 'last_status_code', dataType: 'integer'},
  })
  lastStatusCode?: number;

  @property({type: 'string', postgresql: {columnName: 'last_error'}})
  lastError?: string;

  @property({type: 'date', postgresql: {columnName: 'created_on'}})
  createdOn?: Date;

  @property({type: 'date', postgresql: {columnName: 'modified_on'}})
  modifiedOn?: Date;

  @property({type: 'date', postgresql: {columnName: 'delivered_on'}})
  deliveredOn?: Date;

  @hasMany(() => WebhookDeliveryAttempt, {keyTo: 'deliveryId'})
  attemptLog?: WebhookDeliveryAttempt[];

  constructor(data?: Partial<WebhookDelivery>) {
    super(data);
  }
}

export interface WebhookDeliveryRelations {
  attemptLog?: WebhookDeliveryAttempt[];
}

export type WebhookDeliveryWithRelations = WebhookDelivery &
  WebhookDeliveryRelations;
