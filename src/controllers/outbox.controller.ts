import {intercept, service} from '@loopback/core';
import {Count, CountSchema} from '@loopback/repository';
import {del, get, param, post, response, SchemaObject} from '@loopback/rest';
import {requires} from '../auth';
import {EventOutbox} from '../services';
import {ParkedOutboxEvent} from '../sql';
import {asHttpErrors} from './http-errors';
import {uuidParam} from './params';

const PARKED_EVENT_SCHEMA: SchemaObject = {
  title: 'ParkedOutgoingEvent',
  type: 'object',
  required: ['id', 'seq', 'key', 'event', 'attempts', 'createdOn', 'parkedOn'],
  properties: {
    id: {type: 'string', format: 'uuid'},
    seq: {
      type: 'integer',
      description: 'Its place in the order events were written.',
    },
    key: {type: 'string'},
    event: {
      type: 'object',
      description: 'The event as it would be published.',
    },
    attempts: {type: 'integer'},
    lastError: {type: 'string'},
    createdOn: {type: 'string', format: 'date-time'},
    lastAttemptOn: {type: 'string', format: 'date-time'},
    parkedOn: {type: 'string', format: 'date-time'},
  },
};

/**
 * Outgoing events the relay parked after `maxAttempts` failed publishes:
 * list them, put one back in line, or give one up. A parked event holds
 * back the later events of its tasks until then.
 */
@intercept(asHttpErrors)
export class OutboxController {
  constructor(@service(EventOutbox) private readonly outbox: EventOutbox) {}

  @requires('ViewEvent')
  @get('/events/outbox/parked')
  @response(200, {
    description: 'Parked outgoing events, oldest first',
    content: {
      'application/json': {
        schema: {type: 'array', items: PARKED_EVENT_SCHEMA},
      },
    },
  })
  listParked(
    @param.query.integer('limit', {schema: {minimum: 1, maximum: 1000}})
    limit = 100,
    @param.query.integer('offset', {schema: {minimum: 0}}) offset = 0,
  ): Promise<ParkedOutboxEvent[]> {
    return this.outbox.listParked(limit, offset);
  }

  @requires('ViewEvent')
  @get('/events/outbox/parked/count')
  @response(200, {
    description: 'Number of parked outgoing events',
    content: {'application/json': {schema: CountSchema}},
  })
  async countParked(): Promise<Count> {
    return {count: await this.outbox.countParked()};
  }

  /** Due now, with a fresh attempt budget. */
  @requires('ReplayEvent')
  @post('/events/outbox/parked/{id}/replay')
  @response(204, {description: 'The event is back in line'})
  replay(@uuidParam('id') id: string): Promise<void> {
    return this.outbox.replay(id);
  }

  /** Never published; the later events of its tasks go without it. */
  @requires('DiscardEvent')
  @del('/events/outbox/parked/{id}')
  @response(204, {description: 'The event is discarded'})
  discard(@uuidParam('id') id: string): Promise<void> {
    return this.outbox.discard(id);
  }
}
