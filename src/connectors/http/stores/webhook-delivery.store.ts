import {Options} from '@loopback/repository';
import {IEvent} from '../../../interfaces';
import {Row} from '../../../sql';
import {WebhookDeliveryStatus} from '../types';

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
  /**
   * Deliveries of one claim with the same `run` go to one receiver on one
   * task: they are posted in the order the claim returned them, each after
   * the one before it was delivered. None: it goes alone.
   */
  run?: string;
}

/**
 * A claimed delivery from a claim's row (`id`, `url`, `body`, `attempts`,
 * `total_attempts`, `lock_token`, `api_secret`, and `head` for a run).
 */
export function claimedDeliveryOf(row: Row): ClaimedDelivery {
  return {
    id: String(row.id),
    url: String(row.url),
    body: String(row.body),
    attempts: Number(row.attempts),
    attemptNo: Number(row.total_attempts) + 1,
    lockToken: String(row.lock_token),
    apiSecret: String(row.api_secret),
    run:
      row.head === undefined || row.head === null
        ? undefined
        : String(row.head),
  };
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
 * Durable webhook delivery (`webhook_deliveries`, `webhook_delivery_attempts`,
 * and the ordering keys of undelivered deliveries in `webhook_delivery_keys`).
 * Each method is one statement, so each is atomic on its own and holds no
 * transaction open between calls.
 *
 * Order: a delivery's ordering keys are its event's (`orderingKeysOf`: the
 * ids of the tasks it concerns), and its receiver is its client app and
 * url. A delivery is claimed only once every earlier delivery to the same
 * receiver that shares one of its keys is delivered; a dead one holds its
 * successors back until it is re-queued and delivered. Deliveries without
 * keys are ordered with nothing.
 *
 * Cost: a delivery waiting behind another keeps a `next_attempt_on` no
 * earlier than that one's next try (far in the future while it is dead), so
 * the claim, which reads due deliveries by `next_attempt_on`, never wades
 * through a backlog held back by a failing receiver: `enqueue` takes the
 * latest undelivered delivery of each receiver and key into account,
 * `record` moves the deliveries behind a failed one, `requeueDead` moves
 * them back to now. Order itself rests on the key test alone.
 */
export interface WebhookDeliveryStore {
  /**
   * One pending delivery per live subscription to `event.key`, with the
   * event's ordering keys (inside `options.transaction` when given).
   * Returns how many.
   */
  enqueue(event: IEvent, options?: Options): Promise<number>;
  /**
   * Optional: which of `keys` have a live subscription of a live client
   * app (inside `options.transaction` when given). A batch is then queued
   * with one look-up and no statement for the events nobody subscribed to.
   */
  subscribedKeys?(keys: string[], options?: Options): Promise<Set<string>>;
  /**
   * Claims up to `limit` due deliveries no other worker holds, until
   * `lockMs` from now, each the first undelivered one of its receiver and
   * keys. The claim commits at once; a worker that dies mid-delivery loses
   * its claim when `lockMs` has passed. With `perRun` above 1 a store may
   * also claim, behind a delivery with a single key, up to `perRun - 1`
   * deliveries queued right behind it to the same receiver on that key
   * (each due and of that key alone), marked with the same `run`.
   */
  claim(
    limit: number,
    lockMs: number,
    perRun?: number,
  ): Promise<ClaimedDelivery[]>;
  /**
   * Optional: gives claims back unattempted (the rest of a run after a
   * failed delivery), so they go after that one's retry rather than when
   * their claim expires.
   */
  release?(claims: ClaimedDelivery[]): Promise<void>;
  /**
   * Records an attempt and its outcome. The delivery changes only while the
   * worker still holds the claim; the attempt is recorded either way. A
   * delivered one releases its keys, so its successors may be claimed.
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

/** The status a delivery's row takes after an attempt with `outcome`. */
export function statusOf(outcome: AttemptOutcome): WebhookDeliveryStatus {
  return outcome.delivered
    ? WebhookDeliveryStatus.Delivered
    : outcome.dead
      ? WebhookDeliveryStatus.Dead
      : WebhookDeliveryStatus.Pending;
}
