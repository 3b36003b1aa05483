import {
  AuthorizationContext,
  AuthorizationDecision,
  AuthorizationMetadata,
  Authorizer,
} from '@loopback/authorization';
import {injectable, Provider} from '@loopback/core';
import {ANY_PERMISSION} from './permissions';

/**
 * Allows a call when the user's `permissions` hold one of the route's
 * `scopes` (its permission keys); `*` admits any authenticated user.
 */
@injectable({tags: {authorizer: true}})
export class PermissionAuthorizerProvider implements Provider<Authorizer> {
  value(): Authorizer {
    return this.authorize.bind(this);
  }

  async authorize(
    context: AuthorizationContext,
    metadata: AuthorizationMetadata,
  ): Promise<AuthorizationDecision> {
    const principal = context.principals[0] as
      {permissions?: unknown} | undefined;
    return decideByPermissions(principal, metadata);
  }
}

/**
 * The permission authorizer's decision for `principal` (the first of the
 * context's principals) on a route with `metadata`.
 */
export function decideByPermissions(
  principal: {permissions?: unknown} | undefined,
  metadata: AuthorizationMetadata,
): AuthorizationDecision {
  const required = metadata.scopes ?? [];
  if (!principal) return AuthorizationDecision.DENY;
  if (required.includes(ANY_PERMISSION)) return AuthorizationDecision.ALLOW;
  const held = Array.isArray(principal.permissions)
    ? principal.permissions
    : [];
  return required.some(key => held.includes(key))
    ? AuthorizationDecision.ALLOW
    : AuthorizationDecision.DENY;
}
