import {BindingKey, Interceptor} from '@loopback/core';
import type {RateLimit} from './rate-limit';
import type {SecretCipher} from './secret-cipher';
import {TaskSecurityConfig} from './types';

const PREFIX = 'sf.task.security';

export namespace TaskSecurityBindings {
  /** Rate limits, CORS, headers and filter bounds; optional. */
  export const CONFIG = BindingKey.create<TaskSecurityConfig>(
    `${PREFIX}.config`,
  );
  /** Failed bearer-token checks, per client address. */
  export const AUTH_FAILURE_LIMIT = BindingKey.create<RateLimit>(
    `${PREFIX}.limit.auth-failures`,
  );
  /** Failed client-app credential checks, per client address. */
  export const API_CREDENTIAL_FAILURE_LIMIT = BindingKey.create<RateLimit>(
    `${PREFIX}.limit.api-credential-failures`,
  );
  /** `POST /events/trigger` calls, per caller. */
  export const TRIGGER_LIMIT = BindingKey.create<RateLimit>(
    `${PREFIX}.limit.trigger`,
  );
  /** The interceptor that applies `TRIGGER_LIMIT` to a route. */
  export const TRIGGER_RATE_LIMIT = BindingKey.create<Interceptor>(
    `${PREFIX}.interceptor.trigger-rate-limit`,
  );
  /** Encrypts client-app secrets at rest (keys from `TaskHttpConfig.secretKeys`). */
  export const CLIENT_SECRET_CIPHER = BindingKey.create<SecretCipher>(
    `${PREFIX}.client-secret-cipher`,
  );
}
