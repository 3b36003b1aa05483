import {authenticate} from '@loopback/authentication';
import {authorize} from '@loopback/authorization';
import {JWT_STRATEGY_NAME} from './jwt.strategy';
import {ANY_PERMISSION, PermissionName, permissionsFor} from './permissions';

/** A route that needs a bearer token holding one of the named permissions. */
export function requires(...names: PermissionName[]): MethodDecorator {
  const scopes = names.length ? permissionsFor(...names) : [ANY_PERMISSION];
  const authn = authenticate(JWT_STRATEGY_NAME);
  const authz = authorize({scopes});
  return (target, key, descriptor) => {
    authn(target, key as string, descriptor);
    authz(target, key as string, descriptor);
  };
}

/** A route open to any valid bearer token. */
export function requiresAnyUser(): MethodDecorator {
  return requires();
}
