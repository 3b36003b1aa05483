import {BindingScope, injectable, service} from '@loopback/core';
import {Options} from '@loopback/repository';
import {
  EventHandler,
  IEvent,
  IIncomingConnector,
  IOutgoingConnector,
} from '../../../interfaces';
import {WebhookDeliveryStore} from './webhook-delivery.store';
import {WebhookDeliveryWorker} from './webhook-delivery.worker';

/** Thrown by `receive` when nothing is subscribed (incoming side not in use). */
export class NoEventHandlerError extends Error {}

/**
 * The HTTP connector. Incoming: `POST /events/trigger` hands events to the
 * subscribed handler. Outgoing: `publish` queues one webhook delivery per
 * subscriber in the database and returns; the delivery worker posts them.
 */
@injectable({scope: BindingScope.SINGLETON})
export class HttpStreamService
  implements IIncomingConnector, IOutgoingConnector
{
  private handler?: EventHandler;

  constructor(
    @service(WebhookDeliveryStore)
    private readonly deliveries: WebhookDeliveryStore,
    @service(WebhookDeliveryWorker)
    private readonly worker: WebhookDeliveryWorker,
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
      throw new NoEventHandlerError(
        'The HTTP incoming connector is not subscribed to: no event handler',
      );
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
}
