import {Authorizer} from '@loopback/authorization';
import {BindingKey} from '@loopback/core';
import {JwtVerificationConfig} from './types';

/** Binding keys of the service's authentication and authorization. */
export namespace TaskAuthBindings {
  /** How bearer tokens are verified; default read from `JWT_SECRET`, `JWT_PUBLIC_KEY`, `JWT_ISSUER`. */
  export const JWT_CONFIG = BindingKey.create<JwtVerificationConfig>(
    'sf.task.auth.jwt.config',
  );
  /** The authorizer that checks a route's permission keys against the token's. */
  export const PERMISSION_AUTHORIZER = BindingKey.create<Authorizer>(
    'authorizationProviders.task-service-permissions',
  );
}
