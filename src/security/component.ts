import {
  Binding,
  BindingAddress,
  Component,
  CoreBindings,
  createBindingFromClass,
  inject,
  injectable,
  LifeCycleObserver,
} from '@loopback/core';
import {RestApplication} from '@loopback/rest';
import {hardenRestServer} from './http-hardening';
import {TaskSecurityBindings} from './keys';
import {
  ApiCredentialFailureLimitProvider,
  AuthFailureLimitProvider,
  TriggerLimitProvider,
  TriggerRateLimitInterceptor,
} from './rate-limit';
import {RequestGuardInterceptor} from './request-guard.interceptor';
import {TaskSecurityConfig} from './types';

/** Where the request guard (a global interceptor) is bound. */
export const REQUEST_GUARD_KEY =
  'globalInterceptors.task-security.request-guard';

/** Applies CORS and the security headers when the app starts (the config may be bound late). */
@injectable()
export class RestHardeningObserver implements LifeCycleObserver {
  constructor(
    @inject(CoreBindings.APPLICATION_INSTANCE)
    private readonly app: RestApplication,
    @inject(TaskSecurityBindings.CONFIG, {optional: true})
    private readonly config: TaskSecurityConfig = {},
  ) {}

  init(): void {
    hardenRestServer(this.app.restServer, this.config);
  }
}

/**
 * Hostile-input defences shared by the task service and its HTTP
 * connector (each mounts it; mounting it twice is harmless): the request
 * guard on every route, the rate limits, CORS and security headers. A
 * binding the host made first at one of the keys is kept.
 */
export class TaskSecurityComponent implements Component {
  constructor(
    @inject(CoreBindings.APPLICATION_INSTANCE)
    app: RestApplication,
  ) {
    const defaults: [BindingAddress, Binding][] = [
      [
        REQUEST_GUARD_KEY,
        createBindingFromClass(RequestGuardInterceptor, {
          key: REQUEST_GUARD_KEY,
        }),
      ],
      [
        TaskSecurityBindings.AUTH_FAILURE_LIMIT,
        createBindingFromClass(AuthFailureLimitProvider, {
          key: TaskSecurityBindings.AUTH_FAILURE_LIMIT,
        }),
      ],
      [
        TaskSecurityBindings.API_CREDENTIAL_FAILURE_LIMIT,
        createBindingFromClass(ApiCredentialFailureLimitProvider, {
          key: TaskSecurityBindings.API_CREDENTIAL_FAILURE_LIMIT,
        }),
      ],
      [
        TaskSecurityBindings.TRIGGER_LIMIT,
        createBindingFromClass(TriggerLimitProvider, {
          key: TaskSecurityBindings.TRIGGER_LIMIT,
        }),
      ],
      [
        TaskSecurityBindings.TRIGGER_RATE_LIMIT,
        createBindingFromClass(TriggerRateLimitInterceptor, {
          key: TaskSecurityBindings.TRIGGER_RATE_LIMIT,
        }),
      ],
    ];
    for (const [key, binding] of defaults) {
      if (!app.isBound(key)) app.add(binding);
    }
    app.lifeCycleObserver(RestHardeningObserver);
  }
}
