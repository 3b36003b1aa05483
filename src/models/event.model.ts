import {AnyObject, Entity, model, property} from '@loopback/repository';
import {pgTable, uuidId} from './schema';

/** An incoming event, as stored. */
@model({name: 'events', settings: {...pgTable('events'), strict: true}})
export class Event extends Entity {
  @property(uuidId())
  id?: string;

  @property({type: 'string', required: true, postgresql: {columnName: 'key'}})
  key: string;

  @property({type: 'string', postgresql: {columnName: 'description'}})
  description?: string;

  @property({type: 'string', postgresql: {columnName: 'source'}})
  source?: string;

  @property({
    type: 'object',
    postgresql: {columnName: 'payload', dataType: 'json'},
  })
  payload?: AnyObject;

  /** Milliseconds since the epoch. */
  @property({
    type: 'number',
    required: true,
    postgresql: {columnName: 'timestamp', dataType: 'bigint'},
  })
  timestamp: number;

  constructor(data?: Partial<Event>) {
    super(data);
  }
}
