import {BindingScope, inject, injectable} from '@loopback/core';
import {Options} from '@loopback/repository';
import {TaskServiceError} from '../../../errors';
import {EventHandler, IEvent} from '../../../interfaces';
import {TaskHttpBindings} from '../keys';
import {WebhookDeliveryStore} from '../stores/webhook-delivery.store';
import {DeliveryWorker, HttpEventStream} from '../types';

/** Thrown by `receive` when nothing is subscribed (incoming side not in use). */
export class NoEventHandlerError extends TaskServiceError {
  constructor() {
    super(
      'unavailable',
      'The HTTP incoming connector is not subscribed to: no event handler',
    );
  }
}

/**
 * The HTTP connector. Incoming: `POST /events/trigger` hands events to the
 * subscribed handler. Outgoing: `publish` queues one webhook delivery per
 * subscriber in the database and returns; the delivery worker posts them.
 */
@injectable({scope: BindingScope.SINGLETON})
export class HttpStreamService implements HttpEventStream {
  private handler?: EventHandler;

  constructor(
    @inject(TaskHttpBindings.DELIVERY_STORE)
    private readonly deliveries: WebhookDeliveryStore,
    @inject(TaskHttpBindings.DELIVERY_WORKER)
    private readonly worker: DeliveryWorker,
  ) {}

  async subscribe(handler: EventHandler): Promise<void> {
    this.handler = handler;
  }

  async unsubscribe(): Promise<void> {
    this.handler = undefined;
  }

  /** An event that came in over HTTP: handled before the route answers. */
  async receive(event: IEvent): Promise<void> {
    if (!this.handler) {
      throw new NoEventHandlerError();
    }
    await this.handler(event);
  }

  /**
   * Queues the event for every subscription to its key. Database only, one
   * statement: it never waits on a receiver and fails only when the database
   * does. Pass `options.transaction` to queue inside the caller's transaction.
   */
  async publish(event: IEvent, options?: Options): Promise<void> {
    const queued = await this.deliveries.enqueue(event, options);
    // Inside a caller's transaction the rows appear at its commit; the
    // worker's next poll finds them.
    if (queued && !options?.transaction) this.worker.notify();
  }

  /**
   * `publish` of each event, in the caller's transaction when given. Where
   * the store can tell which keys have subscribers, one look-up for the
   * batch spares a statement for every event nobody subscribed to.
   */
  async publishBatch(events: IEvent[], options?: Options): Promise<void> {
    const subscribed =
      events.length > 1 && this.deliveries.subscribedKeys
        ? await this.deliveries.subscribedKeys(
            [...new Set(events.map(e => e.key))],
            options,
          )
        : undefined;
    let queued = 0;
    for (const event of events) {
      if (subscribed && !subscribed.has(event.key)) continue;
      queued += await this.deliveries.enqueue(event, options);
    }
    if (queued && !options?.transaction) this.worker.notify();
  }
}
