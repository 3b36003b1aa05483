import {AnyObject, Entity, model, property} from '@loopback/repository';
import {pgTable, uuidId} from './schema';

/**
 * An outgoing event waiting in the outbox, published, parked or discarded.
 * Written in the transaction of the change that caused it; read and updated
 * by the relay through `OutboxStore`.
 */
@model({
  name: 'outbox_events',
  settings: {...pgTable('outbox_events'), strict: true},
})
export class OutboxEvent extends Entity {
  @property(uuidId())
  id?: string;

  /** The order events were written in, across transactions. */
  @property({
    type: 'number',
    generated: true,
    postgresql: {columnName: 'seq', dataType: 'bigint'},
  })
  seq?: number;

  @property({type: 'string', required: true, postgresql: {columnName: 'key'}})
  key: string;

  /** The event as it is published: `{key, payload, timestamp, source}`. */
  @property({
    type: 'object',
    required: true,
    postgresql: {columnName: 'event', dataType: 'json'},
  })
  event: AnyObject;

  @property({type: 'date', postgresql: {columnName: 'created_on'}})
  createdOn?: Date;

  /** Not published before this time (a failed publish waits out its backoff). */
  @property({type: 'date', postgresql: {columnName: 'available_on'}})
  availableOn?: Date;

  @property({
    type: 'number',
    postgresql: {columnName: 'attempts', dataType: 'integer'},
  })
  attempts?: number;

  @property({type: 'string', postgresql: {columnName: 'last_error'}})
  lastError?: string;

  @property({type: 'date', postgresql: {columnName: 'published_on'}})
  publishedOn?: Date;

  /** When the last publish was tried. */
  @property({type: 'date', postgresql: {columnName: 'last_attempt_on'}})
  lastAttemptOn?: Date;

  /**
   * Set when the event was parked: it failed `maxAttempts` times while the
   * connector published others. It waits for a replay or a discard, and the
   * later events of its tasks wait behind it.
   */
  @property({type: 'date', postgresql: {columnName: 'parked_on'}})
  parkedOn?: Date;

  /** Set when a parked event was discarded: it will never be published. */
  @property({type: 'date', postgresql: {columnName: 'discarded_on'}})
  discardedOn?: Date;

  constructor(data?: Partial<OutboxEvent>) {
    super(data);
  }
}
