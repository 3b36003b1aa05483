import {TaskServiceError} from '../errors';
import {
  BindingScope,
  inject,
  injectable,
  Interceptor,
  Provider,
} from '@loopback/core';
import {HttpErrors, Request, Response, RestBindings} from '@loopback/rest';
import {securityId, SecurityBindings, UserProfile} from '@loopback/security';
import {
  RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import {TaskSecurityBindings} from './keys';
import {DEFAULT_RATE_LIMITS, RateLimitRule, TaskSecurityConfig} from './types';

/**
 * A rate limit over a `rate-limiter-flexible` limiter: counts events per
 * key and answers 429 with `Retry-After` when a key is over its points.
 * Without a limiter it lets everything through. The default limiter keeps
 * its counts in memory, per instance; bind a `RateLimit` over a shared
 * store (e.g. `RateLimiterPostgres`, `RateLimiterRedis`) to count across
 * instances.
 */
export class RateLimit {
  constructor(
    readonly limiter: RateLimiterAbstract | undefined,
    /** What is counted, for the 429 message: "failed bearer-token checks". */
    readonly what: string,
  ) {}

  /** 429 when `key` has used up its points; counts nothing. */
  async assertAllowed(key: string, response?: Response): Promise<void> {
    if (!this.limiter) return;
    const state = await this.limiter.get(key);
    if (state && state.consumedPoints >= this.limiter.points) {
      throw tooManyRequests(this.what, state.msBeforeNext, response);
    }
  }

  /** Counts one event of `key` (a failure); never throws for the limit itself. */
  async record(key: string): Promise<void> {
    if (!this.limiter) return;
    try {
      await this.limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
    }
  }

  /** Counts one event of `key`; 429 when that goes over the limit. */
  async consume(key: string, response?: Response): Promise<void> {
    if (!this.limiter) return;
    try {
      await this.limiter.consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        throw tooManyRequests(this.what, err.msBeforeNext, response);
      }
      throw err;
    }
  }
}

/** A 429 with `Retry-After` (on the response when given, and in `err.headers`). */
export function tooManyRequests(
  what: string,
  msBeforeNext: number,
  response?: Response,
): HttpErrors.HttpError {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  const headers = {'Retry-After': String(seconds)};
  if (response && !response.headersSent) response.set(headers);
  return Object.assign(
    new HttpErrors.TooManyRequests(`Too many ${what}; retry in ${seconds} s.`),
    {headers},
  );
}

/** The caller's address (Express's `req.ip`, which honours its `trust proxy` setting). */
export function clientAddress(request: Request): string {
  return request.ip ?? request.socket?.remoteAddress ?? 'unknown';
}

/**
 * Runs an authentication check under a failure limit: 429 before it runs
 * when the caller has failed too often, and a failure counted when it
 * refuses the credentials (401).
 */
export async function limitFailures<T>(
  limit: RateLimit | undefined,
  request: Request | undefined,
  check: () => Promise<T>,
): Promise<T> {
  if (!limit || !request) return check();
  const key = clientAddress(request);
  await limit.assertAllowed(key, request.res);
  try {
    return await check();
  } catch (err) {
    // Only a refused credential counts, not a failure of the service.
    if (
      (err as {statusCode?: number}).statusCode === 401 ||
      (err instanceof TaskServiceError && err.kind === 'unauthenticated')
    ) {
      await limit.record(key);
    }
    throw err;
  }
}

function memoryLimit(
  rule: RateLimitRule | false | undefined,
  fallback: RateLimitRule,
  what: string,
): RateLimit {
  if (rule === false) return new RateLimit(undefined, what);
  const {points, durationSeconds} = rule ?? fallback;
  return new RateLimit(
    new RateLimiterMemory({points, duration: durationSeconds}),
    what,
  );
}

/** The default failure limit of bearer-token checks: in memory, from the config. */
@injectable({scope: BindingScope.SINGLETON})
export class AuthFailureLimitProvider implements Provider<RateLimit> {
  constructor(
    @inject(TaskSecurityBindings.CONFIG, {optional: true})
    private readonly config: TaskSecurityConfig = {},
  ) {}

  value(): RateLimit {
    return memoryLimit(
      this.config.rateLimits?.authFailures,
      DEFAULT_RATE_LIMITS.authFailures,
      'failed authentications from this address',
    );
  }
}

/** The default failure limit of client-app credential checks. */
@injectable({scope: BindingScope.SINGLETON})
export class ApiCredentialFailureLimitProvider implements Provider<RateLimit> {
  constructor(
    @inject(TaskSecurityBindings.CONFIG, {optional: true})
    private readonly config: TaskSecurityConfig = {},
  ) {}

  value(): RateLimit {
    return memoryLimit(
      this.config.rateLimits?.apiCredentialFailures,
      DEFAULT_RATE_LIMITS.apiCredentialFailures,
      'failed API key checks from this address',
    );
  }
}

/** The default limit of `POST /events/trigger` calls. */
@injectable({scope: BindingScope.SINGLETON})
export class TriggerLimitProvider implements Provider<RateLimit> {
  constructor(
    @inject(TaskSecurityBindings.CONFIG, {optional: true})
    private readonly config: TaskSecurityConfig = {},
  ) {}

  value(): RateLimit {
    return memoryLimit(
      this.config.rateLimits?.trigger,
      DEFAULT_RATE_LIMITS.trigger,
      'events triggered',
    );
  }
}

/** Applies `TRIGGER_LIMIT` per token user (per address without one). */
@injectable({scope: BindingScope.SINGLETON})
export class TriggerRateLimitInterceptor implements Provider<Interceptor> {
  constructor(
    @inject(TaskSecurityBindings.TRIGGER_LIMIT)
    private readonly limit: RateLimit,
  ) {}

  value(): Interceptor {
    return async (ctx, next) => {
      const request = await ctx.get(RestBindings.Http.REQUEST, {
        optional: true,
      });
      const user = await ctx.get<UserProfile>(SecurityBindings.USER, {
        optional: true,
      });
      const key = user?.[securityId]
        ? `user:${user[securityId]}`
        : request
          ? `address:${clientAddress(request)}`
          : 'anonymous';
      await this.limit.consume(key, request?.res);
      return next();
    };
  }
}
