import {AnyObject, Entity, model, property} from '@loopback/repository';
import {column, serviceTable, uuidId} from './schema';

/** An incoming event, as stored. */
@model({name: 'events', settings: {...serviceTable('events'), strict: true}})
export class Event extends Entity {
  @property(uuidId())
  id?: string;

  @property({type: 'string', required: true, ...column('key')})
  key: string;

  @property({type: 'string', ...column('description')})
  description?: string;

  @property({type: 'string', ...column('source')})
  source?: string;

  @property({
    type: 'object',
    ...column('payload', 'json'),
  })
  payload?: AnyObject;

  /** Milliseconds since the epoch. */
  @property({
    type: 'number',
    required: true,
    ...column('timestamp', 'bigint'),
  })
  timestamp: number;

  constructor(data?: Partial<Event>) {
    super(data);
  }
}
