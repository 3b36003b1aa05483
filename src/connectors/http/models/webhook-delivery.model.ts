import {
  AnyObject,
  Entity,
  hasMany,
  model,
  property,
} from '@loopback/repository';
import {column, serviceTable, uuidId} from '../../../models';
import {WebhookDeliveryStatus} from '../types';
import {WebhookDeliveryAttempt} from './webhook-delivery-attempt.model';

/** One outgoing event to one subscriber, with its retry state. */
@model({
  name: 'webhook_deliveries',
  settings: {
    ...serviceTable('webhook_deliveries'),
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
    ...column('seq', 'bigint'),
  })
  seq?: number;

  @property({
    type: 'string',
    ...column('subscription_id', 'uuid'),
  })
  subscriptionId?: string;

  @property({
    type: 'string',
    required: true,
    ...column('client_app_id', 'uuid'),
  })
  clientAppId: string;

  @property({type: 'string', required: true, ...column('url')})
  url: string;

  @property({
    type: 'string',
    required: true,
    ...column('event_key'),
  })
  eventKey: string;

  /** The event as published: `{key, payload, timestamp, source}`. */
  @property({
    type: 'object',
    required: true,
    ...column('event', 'json'),
  })
  event: AnyObject;

  @property({
    type: 'string',
    required: true,
    jsonSchema: {enum: Object.values(WebhookDeliveryStatus)},
    ...column('status'),
  })
  status: WebhookDeliveryStatus;

  /** Attempts since the delivery was queued or re-queued. */
  @property({
    type: 'number',
    ...column('attempts', 'integer'),
  })
  attempts?: number;

  @property({
    type: 'number',
    ...column('total_attempts', 'integer'),
  })
  totalAttempts?: number;

  @property({type: 'date', ...column('next_attempt_on')})
  nextAttemptOn?: Date;

  @property({type: 'date', ...column('locked_until')})
  lockedUntil?: Date;

  @property({
    type: 'string',
    ...column('lock_token', 'uuid'),
  })
  lockToken?: string;

  @property({
    type: 'number',
    ...column('last_status_code', 'integer'),
  })
  lastStatusCode?: number;

  @property({type: 'string', ...column('last_error')})
  lastError?: string;

  @property({type: 'date', ...column('created_on')})
  createdOn?: Date;

  @property({type: 'date', ...column('modified_on')})
  modifiedOn?: Date;

  @property({type: 'date', ...column('delivered_on')})
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
