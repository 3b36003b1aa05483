import {Entity, model, property} from '@loopback/repository';
import {pgTable} from './schema';

/**
 * An incoming event that carries an id at its source (a Kafka offset, an
 * Idempotency-Key): a redelivery finds the event stored the first time.
 */
@model({
  name: 'event_receipts',
  settings: {...pgTable('event_receipts'), strict: true},
})
export class EventReceipt extends Entity {
  @property({
    type: 'string',
    id: true,
    required: true,
    postgresql: {columnName: 'source_id'},
  })
  sourceId: string;

  @property({
    type: 'string',
    required: true,
    postgresql: {columnName: 'event_id', dataType: 'uuid'},
  })
  eventId: string;

  @property({type: 'date', postgresql: {columnName: 'created_on'}})
  createdOn?: Date;

  constructor(data?: Partial<EventReceipt>) {
    super(data);
  }
}
