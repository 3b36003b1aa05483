import {BindingScope, inject, injectable} from '@loopback/core';
import {randomBytes} from 'crypto';
import {hostname} from 'os';
import {exponentialBackoff} from '../../../utils';
import {
  SecretCipher,
  TaskSecurityBindings,
  WebhookHttpClient,
} from '../../../security';
import {IEvent} from '../../../interfaces';
import {outgoingEventFields} from '../../../observability/event-fields';
import {TaskObservabilityBindings} from '../../../observability/keys';
import {fallbackLogger, safeUrl} from '../../../observability/logger';
import type {
  DeliveryOutcome,
  TaskMetrics,
} from '../../../observability/metrics';
import type {TaskLogger} from '../../../observability/types';
import {TaskHttpBindings} from '../keys';
import {
  AttemptOutcome,
  ClaimedDelivery,
  WebhookDeliveryStore,
} from '../stores/webhook-delivery.store';
import {
  DEFAULT_DELIVERY_CONFIG,
  DeliveryWorker,
  TaskHttpConfig,
  WEBHOOK_HEADERS,
  WebhookDeliveryConfig,
} from '../types';
import {signWebhook} from './webhook-signature';

/**
 * Attempts recorded in one statement at most; also how many may wait to be
 * recorded before the worker stops claiming more.
 */
const MAX_RECORD_BATCH = 200;

interface UnrecordedAttempt {
  claim: ClaimedDelivery;
  outcome: AttemptOutcome;
  resolve(): void;
  reject(err: unknown): void;
}

/** How much of a failing receiver's answer an attempt keeps. */
const MAX_ERROR_LENGTH = 500;

/**
 * Posts due webhook deliveries in the background. Claims rows with
 * `FOR UPDATE SKIP LOCKED` and a time-limited lock committed at once, POSTs
 * outside any transaction, then records the attempt; so several instances
 * on one database share the work, none sends a delivery another holds, and
 * a slow receiver never holds a database transaction.
 */
@injectable({scope: BindingScope.SINGLETON})
export class WebhookDeliveryWorker implements DeliveryWorker {
  /** Names this worker in the attempts it records. */
  readonly name = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly config: Required<WebhookDeliveryConfig>;
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Claimed, waiting for a free slot (at most `concurrency` of them): runs
   * of deliveries to post one after the other, most of one delivery.
   */
  private readonly waiting: ClaimedRun[] = [];
  /** Attempts made, waiting to be recorded together. */
  private readonly unrecorded: UnrecordedAttempt[] = [];
  private readonly recording = new Set<Promise<void>>();
  private flushing?: Promise<void>;
  private loop?: Promise<void>;
  private stopped = true;
  private woken = false;
  private wake?: () => void;
  private lastClaimError?: string;
  private readonly client: WebhookHttpClient;

  constructor(
    @inject(TaskHttpBindings.DELIVERY_STORE)
    private readonly store: WebhookDeliveryStore,
    @inject(TaskSecurityBindings.CLIENT_SECRET_CIPHER)
    private readonly cipher: SecretCipher,
    @inject(TaskHttpBindings.CONFIG, {optional: true})
    private readonly httpConfig: TaskHttpConfig = {},
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
    @inject(TaskObservabilityBindings.METRICS, {optional: true})
    private readonly metrics?: TaskMetrics,
  ) {
    this.config = {...DEFAULT_DELIVERY_CONFIG, ...httpConfig.delivery};
    // The receiver's address is checked as each socket connects.
    this.client = new WebhookHttpClient({
      allowPrivateUrls: httpConfig.allowPrivateUrls ?? false,
      timeoutMs: this.config.timeoutMs,
      maxSockets: this.config.concurrency,
    });
  }

  start(): void {
    if (!this.stopped || !this.config.enabled) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops claiming, then waits for the POSTs in flight to be recorded. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.notify();
    await this.loop;
    await Promise.all(this.inFlight);
    await Promise.all(this.recording);
    this.client.destroy();
  }

  /** Look for due deliveries now rather than at the next poll. */
  notify(): void {
    this.woken = true;
    this.wake?.();
  }

  /**
   * Claims in batches: the free slots plus up to `concurrency` more that
   * wait here, so a slot that frees starts the next POST at once instead of
   * waiting on a claim of one. A waiting delivery starts within one POST's
   * timeout, well inside its claim (`lockMs`).
   */
  private async run(): Promise<void> {
    const {concurrency} = this.config;
    while (!this.stopped) {
      let nothingDue = false;
      // Attempts not yet recorded keep their claims; too many: claim later.
      const recordsLag = this.recording.size > MAX_RECORD_BATCH;
      if (this.waiting.length <= concurrency / 2 && !recordsLag) {
        const wanted =
          concurrency - this.inFlight.size + concurrency - this.waiting.length;
        try {
          const claimedAt = Date.now();
          const claimed = await this.store.claim(
            wanted,
            this.lockMs(),
            this.config.maxRunLength,
          );
          const runs = runsOf(claimed, claimedAt, new Map());
          this.waiting.push(...runs);
          nothingDue = runs.length < wanted;
          this.lastClaimError = undefined;
        } catch (err) {
          this.logClaimError(err as Error);
          nothingDue = true;
        }
      }
      // A claim that returns once the worker is stopping starts nothing:
      // what it took is given back below.
      if (!this.stopped) this.startWaiting();
      // Slots busy and deliveries waiting: wait for a slot. Nothing more due
      // now: wait for the next poll, or a publish or a finished POST.
      const full = this.inFlight.size >= concurrency || recordsLag;
      await this.sleep(
        full || !nothingDue ? undefined : this.config.pollIntervalMs,
      );
    }
    // Claimed but not started: given back, so another instance takes them
    // now rather than when their claim expires (a store that cannot give
    // them back gets them sent before the worker stops).
    const unstarted = this.waiting.splice(0);
    if (this.store.release) {
      try {
        await this.store.release(unstarted.flatMap(run => run.deliveries));
      } catch (err) {
        this.logger.error(
          {err, worker: this.name},
          'Webhook delivery worker: giving back unstarted claims failed (they are retried when their claim expires)',
        );
      }
      return;
    }
    this.waiting.push(...unstarted);
    while (this.waiting.length) {
      this.startWaiting();
      if (this.waiting.length) await Promise.race(this.inFlight);
    }
  }

  private startWaiting() {
    while (
      this.inFlight.size < this.config.concurrency &&
      this.waiting.length
    ) {
      this.track(this.deliverRun(this.waiting.shift()!));
    }
  }

  /**
   * A run in one slot: each delivery once the one before it was delivered.
   * After a failure, or when the claim has too little time left for one
   * more POST (the first included: the run waited too long for a slot), the
   * rest is given back unattempted: it follows the failed one's retry, and
   * no claim can expire while its POST is under way.
   */
  private async deliverRun({deliveries, claimedAt, secrets}: ClaimedRun) {
    const deadline = claimedAt + this.lockMs() - this.config.timeoutMs - 1000;
    for (let i = 0; i < deliveries.length; i++) {
      if (Date.now() > deadline) {
        await this.store.release?.(deliveries.slice(i));
        return;
      }
      if (!(await this.deliver(deliveries[i], secrets))) {
        await this.store.release?.(deliveries.slice(i + 1));
        return;
      }
    }
  }

  /** A claim outlives the POST's timeout, so it cannot expire mid-request. */
  private lockMs(): number {
    return this.config.timeoutMs * 2 + 5000;
  }

  private track(work: Promise<void>) {
    const tracked: Promise<void> = work
      .catch(err =>
        this.logger.error(
          {err, worker: this.name},
          'Webhook delivery worker: an attempt failed unexpectedly (the claim expires and it is retried)',
        ),
      )
      .finally(() => {
        this.inFlight.delete(tracked);
        // The next claimed one takes the slot now, not when the loop wakes.
        if (!this.stopped) this.startWaiting();
        this.notify();
      });
    this.inFlight.add(tracked);
  }

  private sleep(ms?: number): Promise<void> {
    if (this.woken || this.stopped) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise(resolve => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        this.wake = undefined;
        this.woken = false;
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /**
   * One attempt: sign, POST with a timeout, then queue its outcome to be
   * recorded. The slot frees when the POST is done; the claim holds until
   * the outcome is recorded, so nobody sends the delivery meanwhile.
   */
  private async deliver(
    delivery: ClaimedDelivery,
    secrets: Map<string, string>,
  ): Promise<boolean> {
    const started = performance.now();
    let statusCode: number | undefined;
    let error: string | undefined;
    try {
      const result = await this.post(delivery, secrets);
      statusCode = result.statusCode;
      error = result.error;
    } catch (err) {
      error = describe(err as Error, this.config.timeoutMs);
    }
    const durationMs = performance.now() - started;
    const delivered =
      statusCode !== undefined && statusCode >= 200 && statusCode < 300;
    const dead = !delivered && delivery.attempts + 1 >= this.config.maxAttempts;
    const outcome: AttemptOutcome = {
      statusCode,
      error,
      durationMs,
      worker: this.name,
      delivered,
      dead,
      retryInMs: exponentialBackoff(
        delivery.attempts + 1,
        this.config.initialBackoffMs,
        this.config.maxBackoffMs,
      ),
    };
    const recorded: Promise<void> = this.record(delivery, outcome)
      .then(() => this.observe(delivery, outcome))
      .catch(err =>
        this.logger.error(
          {err, worker: this.name},
          'Webhook delivery worker: recording an attempt failed (the claim expires and it is retried)',
        ),
      )
      .finally(() => {
        this.recording.delete(recorded);
        this.notify();
      });
    this.recording.add(recorded);
    return delivered;
  }

  /** Resolves once the outcome is recorded, with others that came meanwhile. */
  private record(
    claim: ClaimedDelivery,
    outcome: AttemptOutcome,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      this.unrecorded.push({claim, outcome, resolve, reject});
      this.flushing ??= this.flush().finally(() => {
        this.flushing = undefined;
      });
    });
  }

  /**
   * Records what is queued in one statement, then what came in meanwhile:
   * one statement in flight at a time, as many attempts in it as finished.
   */
  private async flush(): Promise<void> {
    while (this.unrecorded.length) {
      const batch = this.unrecorded.splice(0, MAX_RECORD_BATCH);
      try {
        if (this.store.recordAll) {
          await this.store.recordAll(batch);
        } else {
          for (const {claim, outcome} of batch) {
            await this.store.record(claim, outcome);
          }
        }
        for (const attempt of batch) attempt.resolve();
      } catch (err) {
        for (const attempt of batch) attempt.reject(err);
      }
    }
  }

  /** Counts the attempt and logs it: delivered at debug, a retry at warn, a dead delivery at error. */
  private observe(delivery: ClaimedDelivery, outcome: AttemptOutcome) {
    const result: DeliveryOutcome = outcome.delivered
      ? 'delivered'
      : outcome.dead
        ? 'dead'
        : 'failed';
    this.metrics?.deliveryAttempted(result, outcome.durationMs / 1000);
    // The common line: its fields (the body parsed again) only when written.
    if (
      result === 'delivered' &&
      this.logger.isLevelEnabled &&
      !this.logger.isLevelEnabled('debug')
    ) {
      return;
    }
    const fields = {
      deliveryId: delivery.id,
      attempt: delivery.attemptNo,
      url: safeUrl(delivery.url),
      statusCode: outcome.statusCode,
      durationMs: Math.round(outcome.durationMs),
      ...deliveryEventFields(delivery.body),
    };
    if (result === 'delivered') {
      this.logger.debug(fields, 'Webhook delivered');
    } else if (result === 'failed') {
      this.logger.warn(
        {...fields, error: outcome.error, retryInMs: outcome.retryInMs},
        'Webhook delivery failed; it is retried',
      );
    } else {
      this.logger.error(
        {...fields, error: outcome.error},
        'Webhook delivery is dead: no attempts left',
      );
    }
  }

  private async post(
    delivery: ClaimedDelivery,
    secrets: Map<string, string>,
  ): Promise<{statusCode: number; error?: string}> {
    // Decrypted once per claim and secret, not per delivery.
    let secret = secrets.get(delivery.apiSecret);
    if (secret === undefined) {
      secret = this.cipher.decrypt(delivery.apiSecret);
      secrets.set(delivery.apiSecret, secret);
    }
    const timestamp = String(Date.now());
    // The exact string that was signed is sent; a redirect is not followed
    // (a 3xx is a failure: following it could reach an unchecked host).
    const res = await this.client.post(delivery.url, delivery.body, {
      'content-type': 'application/json',
      [WEBHOOK_HEADERS.timestamp]: timestamp,
      [WEBHOOK_HEADERS.signature]: signWebhook(
        secret,
        delivery.body,
        timestamp,
      ),
      [WEBHOOK_HEADERS.deliveryId]: delivery.id,
    });
    if (res.statusCode >= 200 && res.statusCode < 300) {
      return {statusCode: res.statusCode};
    }
    return {
      statusCode: res.statusCode,
      error: `HTTP ${res.statusCode}${res.text ? `: ${res.text.slice(0, MAX_ERROR_LENGTH)}` : ''}`,
    };
  }

  private logClaimError(err: Error) {
    // Once per distinct failure, not every poll while the database is down.
    if (err.message === this.lastClaimError) return;
    this.lastClaimError = err.message;
    this.logger.error(
      {err, worker: this.name},
      'Webhook delivery worker: claiming deliveries failed',
    );
  }
}

/** Deliveries of one claim to post one after the other. */
interface ClaimedRun {
  deliveries: ClaimedDelivery[];
  /** When they were claimed (ms): their claim ends `lockMs` later. */
  claimedAt: number;
  /** The claim's secrets, decrypted as first needed (by encrypted form). */
  secrets: Map<string, string>;
}

/** A claim's deliveries as runs, in the order the store gave them. */
function runsOf(
  claimed: ClaimedDelivery[],
  claimedAt: number,
  secrets: Map<string, string>,
): ClaimedRun[] {
  const runs = new Map<string, ClaimedDelivery[]>();
  for (const delivery of claimed) {
    const run = delivery.run ?? delivery.id;
    runs.set(run, [...(runs.get(run) ?? []), delivery]);
  }
  return [...runs.values()].map(deliveries => ({
    deliveries,
    claimedAt,
    secrets,
  }));
}

/** The event's key and task, read from the body that was sent. */
function deliveryEventFields(body: string): Record<string, unknown> {
  try {
    return outgoingEventFields(JSON.parse(body) as IEvent);
  } catch {
    return {};
  }
}

function describe(err: Error, timeoutMs: number): string {
  if (err.name === 'AbortError' || err.name === 'TimeoutError') {
    return `timed out after ${timeoutMs} ms`;
  }
  const cause = (err as Error & {cause?: {code?: string; message?: string}})
    .cause;
  const detail =
    cause?.code ?? cause?.message ?? (err as NodeJS.ErrnoException).code;
  return (detail ? `${err.message}: ${detail}` : err.message).slice(
    0,
    MAX_ERROR_LENGTH,
  );
}
