import {inject, service} from '@loopback/core';
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
import {WebhookSubscription} from '../../../models';
import {WebhookSubscriptionRepository} from '../../../repositories';
import {TaskHttpBindings} from '../keys';
import {WebhookDelivery, WebhookDeliveryWithRelations} from '../models';
import {WebhookDeliveryRepository} from '../repositories';
import {
  ClientAppAuthService,
  validateWebhookUrl,
  WebhookDeliveryStore,
  WebhookDeliveryWorker,
  WebhookUrlError,
} from '../services';
import {
  API_KEY_HEADER,
  API_SECRET_HEADER,
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Webhook routes of a client app. Each needs a bearer token with
 * SubscribeToWebhook and the client's `x-api-key` / `x-api-secret`; a client
 * sees only its own subscriptions and deliveries.
 */
export class WebhookController {
  constructor(
    @service(ClientAppAuthService) private readonly auth: ClientAppAuthService,
    @repository(WebhookSubscriptionRepository)
    private readonly subscriptions: WebhookSubscriptionRepository,
    @repository(WebhookDeliveryRepository)
    private readonly deliveries: WebhookDeliveryRepository,
    @service(WebhookDeliveryStore)
    private readonly store: WebhookDeliveryStore,
    @service(WebhookDeliveryWorker)
    private readonly worker: WebhookDeliveryWorker,
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
    let url: string;
    try {
      url = await validateWebhookUrl(
        body.url,
        this.config.allowPrivateUrls ?? false,
      );
    } catch (err) {
      if (err instanceof WebhookUrlError) {
        throw new HttpErrors.UnprocessableEntity(err.message);
      }
      throw err;
    }
    const where = {clientAppId: client.id!, key: body.key, url};
    const existing = await this.subscriptions.findOne({where});
    if (existing) return existing;
    try {
      return await this.subscriptions.create(where);
    } catch (err) {
      // A concurrent identical subscribe won the unique index: same result.
      if ((err as {code?: string}).code !== '23505') throw err;
      const winner = await this.subscriptions.findOne({where});
      if (!winner) throw err;
      return winner;
    }
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
    @param.path.string('id') id: string,
  ): Promise<WebhookDelivery> {
    const client = await this.auth.authenticate(apiKey, apiSecret);
    const notFound = `Delivery ${id} not found`;
    if (!UUID.test(id)) throw new HttpErrors.NotFound(notFound);
    const requeued = await this.store.requeueDead(id, client.id!);
    if (!requeued) {
      const found = await this.deliveries.findOne({
        where: {id, clientAppId: client.id!},
      });
      if (!found) throw new HttpErrors.NotFound(notFound);
      throw new HttpErrors.Conflict(
        `Only a dead delivery can be retried; delivery ${id} is ${found.status}`,
      );
    }
    this.worker.notify();
    return this.deliveries.findById(id);
  }
}
