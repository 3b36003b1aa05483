import {
  BindingScope,
  BindingType,
  inject,
  injectable,
  Provider,
} from '@loopback/core';
import {
  Middleware,
  MiddlewareContext,
  Request,
  Response,
  RestBindings,
  RouteEntry,
} from '@loopback/rest';
import {randomUUID} from 'crypto';
import {TaskObservabilityBindings} from './keys';
import {withLogContext} from './log-context';
import {pathOf, withoutRedaction} from './logger';
import {TaskMetrics} from './metrics';
import {ServiceState} from './service-state';
import {TaskLogger} from './types';

/** The header that carries a request's id in and out. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What a caller may send as a request id: short, no spaces or control characters. */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Probes and scrapes: logged at debug, not at info on every poll. */
const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

/**
 * First in the middleware chain: gives the request an id (its
 * `x-request-id` header, or a new one; echoed in the response), runs the
 * rest of the chain in a log context that carries it, and when the
 * response is done logs one line (method, path without the query string,
 * route, status, duration) and observes the request duration by route.
 */
@injectable({scope: BindingScope.SINGLETON})
export class RequestObservabilityProvider implements Provider<Middleware> {
  /** Where the request line goes: its fields hold no secret. */
  private readonly logger: TaskLogger;

  constructor(
    @inject(TaskObservabilityBindings.LOGGER)
    logger: TaskLogger,
    @inject(TaskObservabilityBindings.METRICS)
    private readonly metrics: TaskMetrics,
    @inject(TaskObservabilityBindings.SERVICE_STATE)
    private readonly state: ServiceState,
  ) {
    this.logger = withoutRedaction(logger);
  }

  value(): Middleware {
    return (context, next) =>
      this.observe(
        context.request,
        context.response,
        async () => next(),
        () => routeOf(context),
      );
  }

  /**
   * Observes one request answered by `next`; `matched` tells the matched
   * route's template once `next` is done. The lean routes' front door
   * observes the requests it answers with this too.
   */
  async observe(
    request: Request,
    response: Response,
    next: () => Promise<unknown>,
    matched: () => string | undefined,
  ): Promise<unknown> {
    const started = performance.now();
    const given = request.headers[REQUEST_ID_HEADER];
    const requestId =
      typeof given === 'string' && VALID_REQUEST_ID.test(given)
        ? given
        : randomUUID();
    response.setHeader(REQUEST_ID_HEADER, requestId);
    const path = pathOf(request.originalUrl ?? request.url);
    let route: string | undefined;
    response.once('close', () => {
      const status = response.writableFinished ? response.statusCode : 499;
      const durationMs = performance.now() - started;
      const template = route ?? 'unmatched';
      this.metrics.httpRequestDuration.observe(
        {method: request.method, route: template, status: String(status)},
        durationMs / 1000,
      );
      const fields = {
        requestId,
        method: request.method,
        path,
        route: template,
        status,
        durationMs: Math.round(durationMs * 10) / 10,
      };
      if (QUIET_PATHS.has(path)) this.logger.debug(fields, 'request');
      else this.logger.info(fields, 'request');
    });
    if (this.state.refusesRequests && !QUIET_PATHS.has(path)) {
      // Shutting down: the client retries elsewhere, on a new connection.
      response.setHeader('connection', 'close');
      response.setHeader('retry-after', '1');
      response.status(503).json({
        error: {
          statusCode: 503,
          name: 'ServiceUnavailableError',
          message: 'The service is shutting down; retry.',
        },
      });
      return response;
    }
    return withLogContext({requestId}, async () => {
      try {
        return await next();
      } finally {
        route = matched();
      }
    });
  }
}

/**
 * The route's path template (`/tasks/{id}`), so the label stays bounded.
 * The router binds the route as a constant: its value is read from the
 * binding, without a resolution per request; any other binding is resolved.
 */
export function routeOf(context: MiddlewareContext): string | undefined {
  const binding = context.getBinding<RouteEntry>(RestBindings.Operation.ROUTE, {
    optional: true,
  });
  if (!binding) return undefined;
  const source = binding.source;
  const entry =
    source?.type === BindingType.CONSTANT
      ? source.value
      : context.getSync<RouteEntry>(RestBindings.Operation.ROUTE, {
          optional: true,
        });
  return entry?.path;
}
