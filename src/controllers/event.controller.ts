import {intercept} from '@loopback/core';
import {
  Count,
  CountSchema,
  Filter,
  FilterExcludingWhere,
  repository,
  Where,
} from '@loopback/repository';
import {
  get,
  getModelSchemaRef,
  param,
  post,
  requestBody,
  response,
} from '@loopback/rest';
import {asHttpErrors} from './http-errors';
import {assertKnownProperties, uuidParam} from './params';
import {requires, requiresAnyUser} from '../auth';
import {AUDIT_AND_ID, Event, EventWorkflow} from '../models';
import {EventRepository, EventWorkflowRepository} from '../repositories';

/**
 * Events come newest first unless the filter orders them: the order the
 * index on (key, timestamp, id) returns them in, so a page of a key's
 * events reads only that page.
 */
export const EVENT_DEFAULT_ORDER = ['timestamp DESC', 'id DESC'];

@intercept(asHttpErrors)
export class EventController {
  constructor(
    @repository(EventRepository) private readonly events: EventRepository,
    @repository(EventWorkflowRepository)
    private readonly eventWorkflows: EventWorkflowRepository,
  ) {}

  @requires('ViewEvent')
  @get('/events/count')
  @response(200, {
    description: 'Number of events',
    content: {'application/json': {schema: CountSchema}},
  })
  count(@param.where(Event) where?: Where<Event>): Promise<Count> {
    assertKnownProperties(Event, {where});
    return this.events.count(where);
  }

  @requires('ViewEvent')
  @get('/events')
  @response(200, {
    description:
      'Stored events, newest first unless `filter.order` says otherwise',
    content: {
      'application/json': {
        schema: {type: 'array', items: getModelSchemaRef(Event)},
      },
    },
  })
  find(@param.filter(Event) filter?: Filter<Event>): Promise<Event[]> {
    assertKnownProperties(Event, filter);
    return this.events.find({
      ...filter,
      order: filter?.order ?? EVENT_DEFAULT_ORDER,
    });
  }

  @requires('ViewEvent')
  @get('/events/{id}')
  @response(200, {
    description: 'An event',
    content: {'application/json': {schema: getModelSchemaRef(Event)}},
  })
  findById(
    @uuidParam('id') id: string,
    @param.filter(Event, {exclude: 'where'})
    filter?: FilterExcludingWhere<Event>,
  ): Promise<Event> {
    return this.events.findById(id, filter);
  }

  @requiresAnyUser()
  @post('/events/mapping')
  @response(200, {
    description: 'The event-to-workflow mapping',
    content: {'application/json': {schema: getModelSchemaRef(EventWorkflow)}},
  })
  async mapEvent(
    @requestBody({
      content: {
        'application/json': {
          schema: getModelSchemaRef(EventWorkflow, {
            title: 'NewEventMapping',
            exclude: AUDIT_AND_ID,
          }),
        },
      },
    })
    mapping: Pick<EventWorkflow, 'eventKey' | 'workflowKey'>,
  ): Promise<EventWorkflow> {
    const pair = {eventKey: mapping.eventKey, workflowKey: mapping.workflowKey};
    return this.eventWorkflows.findOrCreate(pair, pair);
  }
}
