import type {HelmetOptions} from 'helmet';
import {FilterLimits} from './filter-validator';

/** At most `points` events per `durationSeconds` for one caller. */
export interface RateLimitRule {
  points: number;
  durationSeconds: number;
}

/** Cross-origin access to the API. */
export interface CorsConfig {
  /** `'*'` (any origin) or the allowed origins, e.g. `['https://app.example.com']`. */
  origins: '*' | string[];
  /**
   * Whether browsers may send cookies or HTTP authentication. Refused with
   * `'*'`: credentials need a list of origins. Default false.
   */
  credentials?: boolean;
  /** How long browsers may cache a preflight answer (s); default 86400. */
  maxAgeSeconds?: number;
}

/** Config of the request guard, rate limits and headers, at `TaskSecurityBindings.CONFIG`. */
export interface TaskSecurityConfig {
  rateLimits?: {
    /** Failed bearer-token checks per client address; default 20 a minute, `false` for none. */
    authFailures?: RateLimitRule | false;
    /** Failed `x-api-key`/`x-api-secret` checks per client address; default 10 a minute. */
    apiCredentialFailures?: RateLimitRule | false;
    /** `POST /events/trigger` calls per caller (token user); default 100 a second. */
    trigger?: RateLimitRule | false;
  };
  /**
   * CORS. Without it the host's `rest.cors` stays, except that credentials
   * are turned off when it allows any origin (LoopBack's default allows both).
   */
  cors?: CorsConfig;
  /** helmet options for the security headers, or `false` for none. */
  helmet?: Readonly<HelmetOptions> | false;
  /** Bounds on filters and where clauses. */
  filterLimits?: Partial<FilterLimits>;
  /** Deepest nesting accepted in a JSON body; default 32. */
  maxBodyDepth?: number;
}

export const DEFAULT_RATE_LIMITS = Object.freeze({
  authFailures: {points: 20, durationSeconds: 60},
  apiCredentialFailures: {points: 10, durationSeconds: 60},
  trigger: {points: 100, durationSeconds: 1},
});
