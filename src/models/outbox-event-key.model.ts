import {Entity, model, property} from '@loopback/repository';
import {pgTable} from './schema';

/**
 * An ordering key (a task id) of an outgoing event still to publish. The
 * relay publishes an event only when no earlier event sharing one of its
 * keys is still here; the row goes when its event is published or
 * discarded. Written and read through `OutboxStore`.
 */
@model({
  name: 'outbox_event_keys',
  settings: {...pgTable('outbox_event_keys'), strict: true},
})
export class OutboxEventKey extends Entity {
  @property({
    type: 'string',
    id: 1,
    required: true,
    postgresql: {columnName: 'event_id', dataType: 'uuid'},
  })
  eventId: string;

  @property({
    type: 'string',
    id: 2,
    required: true,
    postgresql: {columnName: 'ordering_key'},
  })
  orderingKey: string;

  /** The event's `seq`. */
  @property({
    type: 'number',
    required: true,
    postgresql: {columnName: 'seq', dataType: 'bigint'},
  })
  seq: number;

  constructor(data?: Partial<OutboxEventKey>) {
    super(data);
  }
}
