import {Interceptor} from '@loopback/core';
import {HttpErrors} from '@loopback/rest';
import {RefusalKind, TaskServiceError} from '../errors';
import {isBadValueError} from '../sql';

/** The HTTP status of each kind of refusal. */
const STATUS: Record<RefusalKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  'not-found': 404,
  conflict: 409,
  rejected: 422,
  unavailable: 503,
};

/**
 * The HTTP error for an error thrown below the routes: a refusal gets its
 * status and message (and details); a value the database cannot hold is
 * the request's fault (400), not a 500. Anything else goes on as it is.
 */
export function toHttpError(err: unknown): unknown {
  if (err instanceof TaskServiceError) {
    const http = HttpErrors(STATUS[err.kind], err.message);
    if (err.details !== undefined) Object.assign(http, {details: err.details});
    return http;
  }
  if (isBadValueError(err)) {
    return new HttpErrors.BadRequest(
      `Invalid value in the request: ${(err as Error).message}`,
    );
  }
  return err;
}

/** Every controller of the service answers refusals with their HTTP status through this. */
export const asHttpErrors: Interceptor = async (_ctx, next) => {
  try {
    return await next();
  } catch (err) {
    throw toHttpError(err);
  }
};
