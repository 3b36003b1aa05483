import {Options} from '@loopback/repository';
import {IEvent} from '../../../interfaces';

/** A delivery a worker has claimed: what it needs to sign and POST it. */
export interface ClaimedDelivery {
  id: string;
  url: string;
  /** The event JSON text exactly as stored: the bytes signed and sent. */
  body: string;
  /** Attempts since (re)queue, before this one. */
  attempts: number;
  /** Number of this attempt among all attempts of the delivery. */
  attemptNo: number;
  lockToken: string;
  /** The subscribing client's secret; kept in memory only to sign. */
  apiSecret: string;
}

/** What one attempt came to, as the worker records it. */
export interface AttemptOutcome {
  statusCode?: number;
  error?: string;
  durationMs: number;
  worker: string;
  /** 2xx: the delivery is done. */
  delivered: boolean;
  /** Not delivered: `dead` when true, else retried after `retryInMs`. */
  dead: boolean;
  retryInMs: number;
}

/**
 * Durable webhook delivery (`webhook_deliveries`, `webhook_delivery_attempts`).
 * Each method is one statement, so each is atomic on its own and holds no
 * transaction open between calls.
 */
export interface WebhookDeliveryStore {
  /**
   * One pending delivery per live subscription to `event.key` (inside
   * `options.transaction` when given). Returns how many.
   */
  enqueue(event: IEvent, options?: Options): Promise<number>;
  /**
   * Claims up to `limit` due deliveries no other worker holds, until
   * `lockMs` from now. The claim commits at once; a worker that dies
   * mid-delivery loses its claim when `lockMs` has passed.
   */
  claim(limit: number, lockMs: number): Promise<ClaimedDelivery[]>;
  /**
   * Records an attempt and its outcome. The delivery changes only while the
   * worker still holds the claim; the attempt is recorded either way.
   */
  record(claim: ClaimedDelivery, outcome: AttemptOutcome): Promise<void>;
  /**
   * Records several attempts in one statement, each as `record` does. A
   * store without it gets one `record` per attempt.
   */
  recordAll?(
    attempts: {claim: ClaimedDelivery; outcome: AttemptOutcome}[],
  ): Promise<void>;
  /**
   * Puts a dead delivery of `clientAppId` back in the queue with a fresh
   * attempt budget. Returns false when there is no such dead delivery.
   */
  requeueDead(id: string, clientAppId: string): Promise<boolean>;
}
