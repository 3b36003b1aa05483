import {intercept, service} from '@loopback/core';
import {AnyObject} from '@loopback/repository';
import {
  HttpErrors,
  param,
  post,
  requestBody,
  response,
  SchemaObject,
} from '@loopback/rest';
import {requires} from '../../../auth';
import {TaskSecurityBindings} from '../../../security';
import {HttpStreamService, NoEventHandlerError} from '../services';

/** The body of `POST /events/trigger`. */
export interface TriggerEventRequest {
  key: string;
  payload?: AnyObject;
  source?: string;
  description?: string;
  /** Ignored: the server sets the time. */
  timestamp?: number;
}

const TRIGGER_SCHEMA: SchemaObject = {
  title: 'TriggerEvent',
  type: 'object',
  required: ['key'],
  additionalProperties: false,
  properties: {
    key: {type: 'string', minLength: 1, maxLength: 255},
    payload: {type: 'object'},
    source: {type: 'string', maxLength: 255},
    description: {type: 'string'},
    timestamp: {
      type: 'number',
      description:
        'Accepted for compatibility and ignored: the server sets it.',
    },
  },
};

export class EventTriggerController {
  constructor(
    @service(HttpStreamService) private readonly stream: HttpStreamService,
  ) {}

  /**
   * Hands the event to the event processor (stores it, starts the mapped
   * workflows) and answers 204 when that is done. The server sets
   * `timestamp`; `source` defaults to `http`. With an `Idempotency-Key`
   * header, a retried request is handled once.
   */
  @requires('TriggerEvent')
  @intercept(TaskSecurityBindings.TRIGGER_RATE_LIMIT)
  @post('/events/trigger')
  @response(204, {description: 'The event was received and processed'})
  async trigger(
    @requestBody({
      required: true,
      content: {'application/json': {schema: TRIGGER_SCHEMA}},
    })
    body: TriggerEventRequest,
    @param.header.string('idempotency-key', {
      description:
        'Optional: a retry with the same key is stored once and starts each mapped workflow once.',
      // Stored as `http:<key>` in a 512-character column.
      schema: {type: 'string', minLength: 1, maxLength: 500},
    })
    idempotencyKey?: string,
  ): Promise<void> {
    try {
      await this.stream.receive({
        id: idempotencyKey ? `http:${idempotencyKey}` : undefined,
        key: body.key,
        payload: body.payload ?? {},
        source: body.source ?? 'http',
        description: body.description,
        timestamp: Date.now(),
      });
    } catch (err) {
      if (err instanceof NoEventHandlerError) {
        throw new HttpErrors.ServiceUnavailable(err.message);
      }
      throw err;
    }
  }
}
