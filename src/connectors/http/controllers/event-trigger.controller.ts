import {inject, intercept} from '@loopback/core';
import {AnyObject} from '@loopback/repository';
import {param, post, requestBody, response, SchemaObject} from '@loopback/rest';
import {requires} from '../../../auth';
import {asHttpErrors} from '../../../controllers/http-errors';
import {TaskHttpBindings} from '../keys';
import {HttpEventStream} from '../types';
import {TaskSecurityBindings} from '../../../security';

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

@intercept(asHttpErrors)
export class EventTriggerController {
  constructor(
    @inject(TaskHttpBindings.STREAM_SERVICE)
    private readonly stream: HttpEventStream,
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
    await this.stream.receive({
      id: idempotencyKey ? `http:${idempotencyKey}` : undefined,
      key: body.key,
      payload: body.payload ?? {},
      source: body.source ?? 'http',
      description: body.description,
      timestamp: Date.now(),
    });
  }
}
