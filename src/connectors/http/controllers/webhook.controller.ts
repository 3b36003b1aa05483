import {inject, intercept, service} from '@loopback/core';
import {repository} from '@loopback/repository';
import {
  get,
  getModelSchemaRef,
  HttpErrors,
  param,
  post,
  requestBody,
  response,
  SchemaObject,
} from '@loopback/rest';
import {requires} from '../../../auth';
import {asHttpErrors} from '../../../controllers/http-errors';
import {uuidParam} from '../../../controllers/params';
import {TaskHttpBindings} from '../keys';
import {
  WebhookDelivery,
  WebhookDeliveryWithRelations,
  WebhookSubscription,
} from '../models';
import {
  WebhookDeliveryRepository,
  WebhookSubscriptionRepository,
} from '../repositories';
import {ClientAppAuthService, validateWebhookUrl} from '../services';
import {WebhookDeliveryStore} from '../stores/webhook-delivery.store';
import {
  API_KEY_HEADER,
  API_SECRET_HEADER,
  DeliveryWorker,
  TaskHttpConfig,
  WebhookDeliveryStatus,
} from '../types';

export interface SubscribeRequest {
  url: string;
  key: string;
}

const SUBSCRIBE_SCHEMA: SchemaObject = {
  title: 'WebhookSubscribe',
  type: 'object',
  required: ['url', 'key'],
  additionalProperties: false,
  properties: {
    url: {type: 'string', minLength: 1, maxLength: 2048},
    key: {type: 'string', minLength: 1, maxLength: 255},
  },
};

/**
 * Webhook routes of a client app. Each needs a bearer token with
 * SubscribeToWebhook and the client's `x-api-key` / `x-api-secret`; a client
 * sees only its own subscriptions and deliveries.
 */
@intercept(asHttpErrors)
export class WebhookController {
  constructor(
    @service(ClientAppAuthService) private readonly auth: ClientAppAuthService,
    @repository(WebhookSubscriptionRepository)
    private readonly subscriptions: WebhookSubscriptionRepository,
    @repository(WebhookDeliveryRepository)
    private readonly deliveries: WebhookDeliveryRepository,
    @inject(TaskHttpBindings.DELIVERY_STORE)
    private readonly store: WebhookDeliveryStore,
    @inject(TaskHttpBindings.DELIVERY_WORKER)
    private readonly worker: DeliveryWorker,
    @inject(TaskHttpBindings.CONFIG, {optional: true})
    private readonly config: TaskHttpConfig = {},
  ) {}

  /** Subscribes `url` to events with `key`; subscribing again returns the same subscription. */
  @requires('SubscribeToWebhook')
  @post('/webhooks/subscribe')
  @response(200, {
    description: 'The subscription',
    content: {
      'application/json': {schema: getModelSchemaRef(WebhookSubscription)},
    },
  })
  async subscribe(
    @param.header.string(API_KEY_HEADER) apiKey: string | undefined,
    @param.header.string(API_SECRET_HEADER) apiSecret: string | undefined,
    @requestBody({
      required: true,
      content: {'application/json': {schema: SUBSCRIBE_SCHEMA}},
    })
    body: SubscribeRequest,
  ): Promise<WebhookSubscription> {
    const client = await this.auth.authenticate(apiKey, apiSecret);
    const url = await validateWebhookUrl(
      body.url,
      this.config.allowPrivateUrls ?? false,
    );
    const subscription = {clientAppId: client.id!, key: body.key, url};
    return this.subscriptions.findOrCreate(subscription, subscription);
  }

  /** The client's deliveries, newest first, each with its attempts. */
  @requires('SubscribeToWebhook')
  @get('/webhooks/deliveries')
  @response(200, {
    description: 'Deliveries of the client app, with their attempts',
    content: {
      'application/json': {
        schema: {
          type: 'array',
          items: getModelSchemaRef(WebhookDelivery, {includeRelations: true}),
        },
      },
    },
  })
  async listDeliveries(
    @param.header.string(API_KEY_HEADER) apiKey: string | undefined,
    @param.header.string(API_SECRET_HEADER) apiSecret: string | undefined,
    @param.query.string('status', {
      schema: {type: 'string', enum: Object.values(WebhookDeliveryStatus)},
    })
    status?: WebhookDeliveryStatus,
    @param.query.string('key') key?: string,
    @param.query.integer('limit', {
      schema: {type: 'integer', minimum: 1, maximum: 1000},
    })
    limit = 100,
    @param.query.integer('offset', {schema: {type: 'integer', minimum: 0}})
    offset = 0,
  ): Promise<WebhookDeliveryWithRelations[]> {
    const client = await this.auth.authenticate(apiKey, apiSecret);
    return this.deliveries.find({
      where: {
        clientAppId: client.id!,
        ...(status ? {status} : {}),
        ...(key ? {eventKey: key} : {}),
      },
      order: ['createdOn DESC', 'id ASC'],
      limit,
      skip: offset,
      include: [{relation: 'attemptLog', scope: {order: ['attemptNo ASC']}}],
    });
  }

  /** Re-queues a dead delivery of the client: pending, a fresh attempt budget, due now. */
  @requires('SubscribeToWebhook')
  @post('/webhooks/deliveries/{id}/retry')
  @response(200, {
    description: 'The re-queued delivery',
    content: {'application/json': {schema: getModelSchemaRef(WebhookDelivery)}},
  })
  async retry(
    @param.header.string(API_KEY_HEADER) apiKey: string | undefined,
    @param.header.string(API_SECRET_HEADER) apiSecret: string | undefined,
    @uuidParam('id') id: string,
  ): Promise<WebhookDelivery> {
    const client = await this.auth.authenticate(apiKey, apiSecret);
    const requeued = await this.store.requeueDead(id, client.id!);
    if (!requeued) {
      const found = await this.deliveries.findOne({
        where: {id, clientAppId: client.id!},
      });
      if (!found) throw new HttpErrors.NotFound(`Delivery ${id} not found`);
      throw new HttpErrors.Conflict(
        `Only a dead delivery can be retried; delivery ${id} is ${found.status}`,
      );
    }
    this.worker.notify();
    return this.deliveries.findById(id);
  }
}
