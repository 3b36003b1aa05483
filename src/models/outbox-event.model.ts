import {AnyObject, Entity, model, property} from '@loopback/repository';
import {column, serviceTable, uuidId} from './schema';

/**
 * An outgoing event waiting in the outbox, published, parked or discarded.
 * Written in the transaction of the change that caused it; read and updated
 * by the relay through `OutboxStore`.
 */
@model({
  name: 'outbox_events',
  settings: {...serviceTable('outbox_events'), strict: true},
})
export class OutboxEvent extends Entity {
  @property(uuidId())
  id?: string;

  /** The order events were written in, across transactions. */
  @property({
    type: 'number',
    generated: true,
    ...column('seq', 'bigint'),
  })
  seq?: number;

  @property({type: 'string', required: true, ...column('key')})
  key: string;

  /** The event as it is published: `{key, payload, timestamp, source}`. */
  @property({
    type: 'object',
    required: true,
    ...column('event', 'json'),
  })
  event: AnyObject;

  @property({type: 'date', ...column('created_on')})
  createdOn?: Date;

  /** Not published before this time (a failed publish waits out its backoff). */
  @property({type: 'date', ...column('available_on')})
  availableOn?: Date;

  @property({
    type: 'number',
    ...column('attempts', 'integer'),
  })
  attempts?: number;

  @property({type: 'string', ...column('last_error')})
  lastError?: string;

  @property({type: 'date', ...column('published_on')})
  publishedOn?: Date;

  /** When the last publish was tried. */
  @property({type: 'date', ...column('last_attempt_on')})
  lastAttemptOn?: Date;

  /**
   * Set when the event was parked: it failed `maxAttempts` times while the
   * connector published others. It waits for a replay or a discard, and the
   * later events of its tasks wait behind it.
   */
  @property({type: 'date', ...column('parked_on')})
  parkedOn?: Date;

  /** Set when a parked event was discarded: it will never be published. */
  @property({type: 'date', ...column('discarded_on')})
  discardedOn?: Date;

  /**
   * How many ordering keys the event was written with (its rows in
   * `outbox_event_keys`); set once. NULL for an event written before the
   * column: the relay's claim then reads its keys.
   */
  @property({type: 'number', ...column('key_count', 'integer')})
  keyCount?: number;

  constructor(data?: Partial<OutboxEvent>) {
    super(data);
  }
}
