import {LifeCycleObserver} from '@loopback/core';
import {IEvent, IIncomingConnector, IOutgoingConnector} from '../../interfaces';
import type {SecretKey} from '../../security/secret-cipher';

/** How the background worker delivers webhooks. */
export interface WebhookDeliveryConfig {
  /** Attempts before a delivery is marked `dead`; default 8. */
  maxAttempts?: number;
  /** Wait (ms) after the first failed attempt; doubles each time; default 1000. */
  initialBackoffMs?: number;
  /** Longest wait (ms) between attempts; default 300000 (5 min). */
  maxBackoffMs?: number;
  /** A POST that has not answered in this time (ms) fails; default 10000. */
  timeoutMs?: number;
  /** How often (ms) an idle worker looks for due deliveries; default 250. */
  pollIntervalMs?: number;
  /** POSTs in flight at once per service instance; default 8. */
  concurrency?: number;
  /**
   * Deliveries of one task to one receiver a slot may post one after the
   * other from one claim (each once the one before it was delivered);
   * default 20. 1: a claim per delivery.
   */
  maxRunLength?: number;
  /** false: this instance does not run a delivery worker (default true). */
  enabled?: boolean;
}

/** Config of `TaskHttpComponent`, bound at `TaskHttpBindings.CONFIG`. */
export interface TaskHttpConfig {
  /**
   * Whether webhooks may go to loopback and private-network addresses
   * (a local receiver in development). Default false. Link-local and cloud
   * metadata addresses are refused either way, at subscription and again
   * when each delivery connects.
   */
  allowPrivateUrls?: boolean;
  /**
   * Keys that encrypt client-app secrets at rest (AES-256-GCM), newest
   * first: the first encrypts, all decrypt. Required. To rotate, put a new
   * key first and keep the old ones; at start every secret is re-encrypted
   * with the new key, after which the old ones can go.
   */
  secretKeys?: SecretKey[];
  delivery?: WebhookDeliveryConfig;
}

export const DEFAULT_DELIVERY_CONFIG: Required<WebhookDeliveryConfig> =
  Object.freeze({
    maxAttempts: 8,
    initialBackoffMs: 1000,
    maxBackoffMs: 300_000,
    timeoutMs: 10_000,
    pollIntervalMs: 250,
    concurrency: 8,
    maxRunLength: 20,
    enabled: true,
  });

/** Delivery status: waiting (or retrying), done, or given up. */
export enum WebhookDeliveryStatus {
  Pending = 'pending',
  Delivered = 'delivered',
  Dead = 'dead',
}

/** Webhook request headers. */
export const WEBHOOK_HEADERS = Object.freeze({
  signature: 'x-task-signature',
  timestamp: 'x-task-timestamp',
  deliveryId: 'x-task-delivery-id',
});

/** Client-app credential headers of the `/webhooks/*` routes. */
export const API_KEY_HEADER = 'x-api-key';
export const API_SECRET_HEADER = 'x-api-secret';

/**
 * The HTTP connector's event stream: the incoming side `POST /events/trigger`
 * feeds, and the outgoing side that queues webhook deliveries.
 */
export interface HttpEventStream
  extends IIncomingConnector, IOutgoingConnector {
  /** An event that came in over HTTP, handled before the route answers. */
  receive(event: IEvent): Promise<void>;
}

/** The background webhook delivery worker, as others see it. */
export interface DeliveryWorker extends LifeCycleObserver {
  /** Deliveries were queued or re-queued: look for due ones now. */
  notify(): void;
}
