import {extensionFor} from '@loopback/core';
import {
  ExpressRequestHandler,
  HttpErrors,
  Middleware,
  RestMiddlewareGroups,
  RestServer,
  RestServerResolvedConfig,
  RestTags,
} from '@loopback/rest';
import helmet, {HelmetOptions} from 'helmet';
import {CorsConfig, TaskSecurityConfig} from './types';

type CorsOptions = RestServerResolvedConfig['cors'];

/** Where the helmet middleware is bound. */
export const SECURITY_HEADERS_MIDDLEWARE = 'middleware.task-security.headers';
/** Where helmet's own handler is bound (the lean routes' front door calls it). */
export const SECURITY_HEADERS_HANDLER = 'task-security.headers.handler';
/** Where the path check is bound. */
export const PATH_GUARD_MIDDLEWARE = 'middleware.task-security.path';

/** Names every plain object inherits (`__proto__`, `constructor`, `toString`, ...). */
const INHERITED_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Paths checked before and found without such a segment. */
const allowedPaths = new Set<string>();
const MAX_ALLOWED_PATHS = 1024;

/**
 * Refuses a path with a segment such as `__proto__` or `constructor`:
 * LoopBack's route table looks segments up in plain objects, and such a
 * segment in place of an id makes the lookup throw (a 500).
 */
export const refuseInheritedPathSegments: ExpressRequestHandler = (
  request,
  _response,
  next,
) => {
  const path = request.path;
  if (allowedPaths.has(path)) {
    next();
    return;
  }
  for (const segment of path.split('/')) {
    let decoded = segment;
    // Without a `%` there is nothing to decode.
    if (segment.includes('%')) {
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        // Not percent-encoding: checked as it is.
      }
    }
    if (INHERITED_NAMES.has(segment) || INHERITED_NAMES.has(decoded)) {
      next(
        Object.assign(
          new HttpErrors.BadRequest(
            `The path segment "${decoded}" is not allowed.`,
          ),
          {code: 'INVALID_PATH'},
        ),
      );
      return;
    }
  }
  // A route's path comes again and again; an id in it makes many paths.
  if (allowedPaths.size >= MAX_ALLOWED_PATHS) allowedPaths.clear();
  allowedPaths.add(path);
  next();
};

/** A CORS configuration that allows credentials for any origin. */
export class CorsConfigError extends Error {}

/**
 * The CORS options the server uses: the configured ones, or the host's with
 * credentials turned off when they allow any origin. Credentials are never
 * allowed together with any origin.
 */
export function corsOptions(
  current: CorsOptions,
  configured?: CorsConfig,
): CorsOptions {
  if (configured) {
    const anyOrigin = configured.origins === '*';
    if (anyOrigin && configured.credentials) {
      throw new CorsConfigError(
        'CORS: credentials cannot be allowed for any origin; list the allowed origins.',
      );
    }
    return {
      ...current,
      origin: anyOrigin ? '*' : [...configured.origins],
      credentials: configured.credentials ?? false,
      maxAge: configured.maxAgeSeconds ?? current.maxAge ?? 86400,
    };
  }
  const anyOrigin = current.origin === '*' || current.origin === true;
  return anyOrigin ? {...current, credentials: false} : current;
}

/**
 * Hardens the REST server before it builds its request handler: CORS as
 * above, no `X-Powered-By`, no inherited names as path segments, and helmet's security headers
 * (`X-Content-Type-Options: nosniff`, `Strict-Transport-Security`,
 * `X-Frame-Options`, `Referrer-Policy`, a content security policy, ...) on
 * every answer, in the CORS middleware group so errors and the OpenAPI
 * document carry them too.
 */
export function hardenRestServer(
  server: RestServer,
  config: TaskSecurityConfig,
): void {
  server.config.cors = corsOptions(server.config.cors, config.cors);
  server.config.expressSettings = {
    ...server.config.expressSettings,
    'x-powered-by': false,
  };
  const bothChains = extensionFor(
    RestTags.REST_MIDDLEWARE_CHAIN,
    RestTags.ACTION_MIDDLEWARE_CHAIN,
  );
  server
    .middleware(synchronousFirst(refuseInheritedPathSegments), {
      key: PATH_GUARD_MIDDLEWARE,
      group: RestMiddlewareGroups.CORS,
    })
    .apply(bothChains);
  if (config.helmet === false) {
    for (const key of [SECURITY_HEADERS_MIDDLEWARE, SECURITY_HEADERS_HANDLER]) {
      if (server.isBound(key)) server.unbind(key);
    }
    return;
  }
  const headers = securityHeaders(config.helmet ?? {});
  server.bind(SECURITY_HEADERS_HANDLER).to(headers);
  server
    .middleware(synchronousFirst(headers), {
      key: SECURITY_HEADERS_MIDDLEWARE,
      group: RestMiddlewareGroups.CORS,
    })
    .apply(bothChains);
}

/**
 * An Express handler as middleware of the sequence, as LoopBack's
 * `expressMiddleware` makes it (the chain goes on when the handler calls
 * `next`, stops when it answers, fails with the error it passes to `next`),
 * without LoopBack's cost per request for a handler that calls `next`
 * before it returns, as helmet and the path check always do: LoopBack's
 * wrapper builds two promises and listens for the end of the response on
 * every request; here the chain goes on, or fails, at once. A handler that
 * has not called `next` when it returns is waited for as LoopBack does:
 * until it calls `next` or the response is done.
 */
export function synchronousFirst(handler: ExpressRequestHandler): Middleware {
  return (context, next) => {
    const {request, response} = context;
    let called = false;
    let failure: unknown;
    let later: ((err?: unknown) => void) | undefined;
    try {
      handler(request, response, (err?: unknown) => {
        if (later) return later(err);
        called = true;
        failure = err;
      });
    } catch (err) {
      return Promise.reject(err);
    }
    if (called) return failure ? Promise.reject(failure) : next();
    return new Promise<boolean>((resolve, reject) => {
      later = err => (err ? reject(err) : resolve(false));
      if (response.writableFinished) resolve(true);
      else response.once('close', () => resolve(true));
    }).then(answered => (answered ? response : next()));
  };
}

/** A header helmet sets (with its value) or removes (without one). */
type HeaderStep = [name: string, value?: number | string | readonly string[]];

/**
 * helmet's handler for `options`. When they hold no function (a CSP nonce,
 * say, which differs per request), helmet's answer is the same on every
 * request: it is taken once, and each request gets the headers helmet set
 * and removed then, in the same order, rather than helmet working them out
 * again (2-3 % of a short route's CPU). helmet 8 touches nothing but
 * `setHeader` and `removeHeader` of the response.
 */
export function securityHeaders(options: HelmetOptions): ExpressRequestHandler {
  const handler = helmet(options);
  if (holdsFunction(options)) return handler;
  const steps: HeaderStep[] = [];
  const recorder = {
    setHeader(name: string, value: number | string | readonly string[]) {
      steps.push([name, value]);
      return recorder;
    },
    removeHeader(name: string) {
      steps.push([name]);
    },
  };
  let passed = false;
  try {
    handler(
      {} as Parameters<ExpressRequestHandler>[0],
      recorder as unknown as Parameters<ExpressRequestHandler>[1],
      err => {
        passed = !err;
      },
    );
  } catch {
    return handler;
  }
  if (!passed) return handler;
  return (_request, response, next) => {
    for (const [name, value] of steps) {
      if (value === undefined) response.removeHeader(name);
      else response.setHeader(name, value);
    }
    next();
  };
}

function holdsFunction(value: unknown): boolean {
  if (typeof value === 'function') return true;
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(holdsFunction);
}
