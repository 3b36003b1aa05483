import {Entity, model, property} from '@loopback/repository';
import {column, serviceTable} from './schema';

/**
 * An incoming event that carries an id at its source (a Kafka offset, an
 * Idempotency-Key): a redelivery finds the event stored the first time.
 */
@model({
  name: 'event_receipts',
  settings: {...serviceTable('event_receipts'), strict: true},
})
export class EventReceipt extends Entity {
  @property({
    type: 'string',
    id: true,
    required: true,
    ...column('source_id'),
  })
  sourceId: string;

  @property({
    type: 'string',
    required: true,
    ...column('event_id', 'uuid'),
  })
  eventId: string;

  @property({type: 'date', ...column('created_on')})
  createdOn?: Date;

  constructor(data?: Partial<EventReceipt>) {
    super(data);
  }
}
