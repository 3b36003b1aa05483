import {
  AuthenticationBindings,
  AuthenticationStrategy,
  getAuthenticateMetadata,
} from '@loopback/authentication';
import {
  AuthorizationDecision,
  AuthorizationInterceptor,
  AuthorizationMetadata,
  AuthorizationTags,
  getAuthorizationMetadata,
} from '@loopback/authorization';
import {
  Binding,
  BindingScope,
  Constructor,
  ContextTags,
  CoreBindings,
  extensionFilter,
  inject,
  injectable,
  instantiateClass,
  INTERCEPT_CLASS_KEY,
  INTERCEPT_METHOD_KEY,
  InterceptorOrKey,
  MetadataInspector,
  Next,
  Provider,
} from '@loopback/core';
import {
  ExpressRequestHandler,
  getControllerSpec,
  HttpHandler,
  Middleware,
  MiddlewareContext,
  MiddlewareSequence,
  OperationObject,
  parseOperationArgs,
  RequestBodyParser,
  Request,
  ResolvedRoute,
  RestApplication,
  RestBindings,
  Reject,
  Response,
  RestServer,
  RestTags,
  Send,
  SequenceActions,
  ValidationOptions,
} from '@loopback/rest';
import cors from 'cors';
import type {IncomingMessage, ServerResponse} from 'http';
import {BearerJwtStrategy, JWT_STRATEGY_NAME} from '../auth/jwt.strategy';
import {decideByPermissions} from '../auth/permission.authorizer';
import {TaskAuthBindings} from '../auth/keys';
import {asHttpErrors, toHttpError} from '../controllers/http-errors';
import {LeanJsonBodyParser} from './lean-json-body';
import {TaskObservabilityBindings} from '../observability/keys';
import {RequestObservabilityProvider} from '../observability/request-observability.middleware';
import {ServiceState} from '../observability/service-state';
import {fallbackLogger} from '../observability/logger';
import type {TaskLogger} from '../observability/types';
import {
  asClientError,
  RequestGuardInterceptor,
} from '../security/request-guard.interceptor';
import {TaskSecurityBindings} from '../security/keys';
import {
  PATH_GUARD_MIDDLEWARE,
  refuseInheritedPathSegments,
  SECURITY_HEADERS_HANDLER,
  SECURITY_HEADERS_MIDDLEWARE,
} from '../security/http-hardening';
import {
  clientAddress,
  RateLimit,
  TriggerRateLimitInterceptor,
} from '../security/rate-limit';
import {TaskUserProfile} from '../auth/types';

/** The middleware group of the lean routes: after CORS and the host's middleware, before the route is found. */
export const LEAN_ROUTES_GROUP = 'taskLeanRoutes';

/**
 * A controller method that may be served on the lean path. Only a method
 * whose work depends on its arguments alone qualifies: one controller
 * instance, made once, serves every request.
 */
export interface LeanRouteMethod {
  controller: Constructor<object>;
  method: string;
}

/** The tag of the bindings of `LeanRouteMethod`s. */
export const LEAN_ROUTE_METHOD_TAG = 'sf.task.leanRouteMethod';

/** A binding that lets `controller.method` be served on the lean path. */
export function leanRouteMethod<T extends object>(
  controller: Constructor<T>,
  method: keyof T & string,
): Binding<LeanRouteMethod> {
  return Binding.bind<LeanRouteMethod>(
    `sf.task.leanRoutes.${controller.name}.${method}`,
  )
    .to({controller, method})
    .tag(LEAN_ROUTE_METHOD_TAG);
}

/** How one route is served on the lean path, worked out once. */
interface LeanPlan {
  /** One instance for every request: the methods read only their arguments. */
  controller: Record<string, (...args: unknown[]) => Promise<unknown>>;
  method: string;
  authorization: AuthorizationMetadata;
  /** The route's per-user rate limit, when it has one. */
  rateLimit?: RateLimit;
}

/** What the lean path needs of the app, resolved at its first request. */
interface LeanSetup {
  /** Whether a request may be for a lean route: others skip the route lookup. */
  mayServe: (verb: string, path: string) => boolean;
  handler: HttpHandler;
  /** LoopBack's body parser, reading a plain JSON body directly (`LeanJsonBodyParser`). */
  bodyParser: RequestBodyParser;
  validation: ValidationOptions;
  strategy: BearerJwtStrategy;
  guard: RequestGuardInterceptor;
}

/** The Express app of the REST server, as far as the front door uses it. */
interface ExpressAppLike {
  handle(
    request: IncomingMessage,
    response: ServerResponse,
    done?: (err?: unknown) => void,
  ): void;
  request: object;
  response: object;
  get(setting: string): unknown;
  enabled(setting: string): boolean;
}

/** What the front door does besides the lean path's own steps. */
interface FrontDoor {
  express: ExpressAppLike;
  parseQuery: (query: string | undefined) => unknown;
  observer: RequestObservabilityProvider;
  state: ServiceState;
  cors: ExpressRequestHandler;
  headers?: ExpressRequestHandler;
  send: Send;
  reject: Reject;
}

/**
 * The middleware of the default chain the front door knows: it opens only
 * when the chain holds these and no other, so it does all the chain does.
 */
const FRONT_DOOR_CHAIN = new Set([
  'middleware.TaskRequestObservability',
  'middleware.TaskLeanRoutes',
  'middleware.cors',
  PATH_GUARD_MIDDLEWARE,
  SECURITY_HEADERS_MIDDLEWARE,
  // The OpenAPI document and explorer routes: not a lean route's path.
  'middleware.apiSpec.defaults',
  // LoopBack's own, after the lean routes.
  'providers.FindRouteMiddlewareProvider',
  'middleware.authentication',
  'providers.ParseParamsMiddlewareProvider',
  'providers.InvokeMethodMiddlewareProvider',
  'providers.SendResponseMiddlewareProvider',
]);

/**
 * The lean path of the hottest routes (`POST /events/trigger` and the
 * reads of tasks, events and user tasks): a request to one of them whose
 * bearer token is valid and allowed goes from here straight to the
 * controller method, without the per-request dependency injection of the
 * route pipeline (finding the strategy and the authorizers, the invocation
 * and interceptor chain, a new controller and repositories per request),
 * which costs several times the method's own work.
 *
 * It does what the pipeline does for such a request, with the same code:
 * LoopBack's router and `parseOperationArgs` (body parsing, coercion and
 * validation; a plain JSON body is read by `LeanJsonBodyParser` with
 * LoopBack's reviver, any other by LoopBack's parser), the bearer
 * strategy's verification, the permission authorizer, the request guard's
 * checks, the route's rate limit, the error mapping of the controllers;
 * the answer is written by the sequence's `send` as usual. Any other
 * request (no or a refused token, a permission missing, an address over its
 * failure limit, a user over the rate limit) goes down the pipeline, which
 * answers it as before, so every refusal keeps its status, message and
 * counting.
 *
 * It serves nothing unless the app is as the component set it up: the
 * component's `MiddlewareSequence`, the bearer strategy and the permission
 * authorizer alone, no global interceptor but authorization and the
 * request guard, no middleware after its group but LoopBack's, and each
 * route still bound to its own controller with interceptors it knows. A
 * host that changes any of these gets the pipeline for every request.
 */
@injectable({scope: BindingScope.SINGLETON})
export class LeanRoutesProvider implements Provider<Middleware> {
  private setup?: Promise<LeanSetup | undefined>;
  /** The set-up once made: null when the lean path serves nothing. */
  private ready?: LeanSetup | null;
  private readonly plans = new WeakMap<object, LeanPlan | null>();

  constructor(
    @inject(CoreBindings.APPLICATION_INSTANCE)
    private readonly app: RestApplication,
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
  ) {}

  value(): Middleware {
    return (context, next) => this.serve(context, next);
  }

  private async serve(context: MiddlewareContext, next: Next) {
    const {request} = context;
    // Resolved once; later requests read it without waiting on a promise.
    const setup = this.ready !== undefined ? this.ready : await this.setUp();
    if (!setup?.mayServe(request.method, request.path)) return next();
    let route: ResolvedRoute;
    try {
      route = setup.handler.findRoute(request);
    } catch {
      return next();
    }
    // Planned once; later requests read it without waiting on a promise.
    const known = this.plans.get(route.spec);
    const plan = known !== undefined ? known : await this.makePlanOnce(route);
    if (!plan) return next();
    const user = await this.admit(setup, plan, request);
    if (!user) return next();
    context.bind(RestBindings.Operation.ROUTE).to(route);
    return this.answer(setup, plan, route, request, user);
  }

  /**
   * The user a lean route serves: the token's, allowed the route and under
   * its rate limit; none when the pipeline is to answer (and count).
   */
  private async admit(
    setup: LeanSetup,
    plan: LeanPlan,
    request: Request,
  ): Promise<TaskUserProfile | undefined> {
    const user = await this.userOf(setup, request);
    if (!user || !allows(user, plan)) return undefined;
    if (
      plan.rateLimit &&
      !(await underLimit(plan.rateLimit, `user:${user.id}`))
    ) {
      return undefined;
    }
    return user;
  }

  /** The controller method's result for an admitted request, as the pipeline would give it. */
  private async answer(
    setup: LeanSetup,
    plan: LeanPlan,
    route: ResolvedRoute,
    request: Request,
    user: TaskUserProfile,
  ): Promise<unknown> {
    const args = await parseOperationArgs(
      request,
      route,
      setup.bodyParser,
      setup.validation,
    );
    await setup.guard.checkRequest(request, route.spec, route.schemas, args);
    await plan.rateLimit?.consume(`user:${user.id}`, request.res);
    try {
      return await plan.controller[plan.method](...args);
    } catch (err) {
      throw asClientError(toHttpError(err), request);
    }
  }

  private async setUp(): Promise<LeanSetup | null> {
    this.setup ??= this.prepare();
    this.ready = (await this.setup) ?? null;
    return this.ready;
  }

  /** The token's user, or none (the pipeline then answers and counts). */
  private async userOf(
    {strategy}: LeanSetup,
    request: Request,
  ): Promise<TaskUserProfile | undefined> {
    if (!request.headers.authorization) return undefined;
    try {
      if (strategy.failures) {
        await strategy.failures.assertAllowed(clientAddress(request));
      }
      return await strategy.verifyRequest(request);
    } catch {
      return undefined;
    }
  }

  /** The plan of a route not planned yet, kept (null when it is not served here). */
  private async makePlanOnce(route: ResolvedRoute): Promise<LeanPlan | null> {
    const plan = await this.makePlan(route).catch(err => {
      this.logger.warn(
        {err, route: route.path},
        'Lean route not set up; the route pipeline serves it',
      );
      return null;
    });
    this.plans.set(route.spec, plan);
    return plan;
  }

  private async makePlan(route: ResolvedRoute): Promise<LeanPlan | null> {
    const name = route.spec['x-controller-name'] as string | undefined;
    const method = route.spec['x-operation-name'] as string | undefined;
    const wanted = this.app
      .findByTag(LEAN_ROUTE_METHOD_TAG)
      .map(b => b.getValue(this.app) as LeanRouteMethod)
      .find(m => m.controller.name === name && m.method === method);
    if (!wanted || !method) return null;
    const binding = this.app.getBinding(`controllers.${name}`, {
      optional: true,
    });
    if (binding?.valueConstructor !== wanted.controller) return null;
    const authentication = getAuthenticateMetadata(wanted.controller, method);
    const authorization = getAuthorizationMetadata(
      wanted.controller.prototype,
      method,
    );
    const bearerOnly =
      authentication?.length === 1 &&
      authentication[0].strategy === JWT_STRATEGY_NAME &&
      authentication[0].skip !== true;
    const byPermissions =
      authorization !== undefined &&
      authorization.skip !== true &&
      !authorization.voters?.length;
    if (!bearerOnly || !byPermissions) return null;
    let rateLimit: RateLimit | undefined;
    for (const interceptor of interceptorsOf(wanted.controller, method)) {
      if (interceptor === asHttpErrors) continue;
      const key =
        typeof interceptor === 'function' ? undefined : String(interceptor);
      if (
        key === TaskSecurityBindings.TRIGGER_RATE_LIMIT.key &&
        this.boundTo(key, TriggerRateLimitInterceptor)
      ) {
        rateLimit = await this.app.get(TaskSecurityBindings.TRIGGER_LIMIT);
        continue;
      }
      return null;
    }
    return {
      controller: await this.app.get(`controllers.${name}`),
      method,
      authorization,
      rateLimit,
    };
  }

  /**
   * What the lean path needs, or none when the app is not as the component
   * set it up (the pipeline then serves every request).
   */
  private async prepare(): Promise<LeanSetup | undefined> {
    const server = await this.app.getServer(RestServer);
    const refusal = this.refusal(server);
    const strategy = refusal ? undefined : await this.serviceBearerStrategy();
    if (!strategy) {
      this.logger.info(
        {
          reason:
            refusal ??
            `the "${JWT_STRATEGY_NAME}" strategy is not the service's own`,
        },
        'Lean routes off: every request takes the route pipeline',
      );
      return undefined;
    }
    const [handler, bodyParser, parserOptions, ajvFactory, guard] =
      await Promise.all([
        server.get(RestBindings.HANDLER),
        server.get(RestBindings.REQUEST_BODY_PARSER),
        server.get(RestBindings.REQUEST_BODY_PARSER_OPTIONS, {optional: true}),
        server.get(RestBindings.AJV_FACTORY, {optional: true}),
        instantiateClass(RequestGuardInterceptor, this.app),
      ]);
    const setup: LeanSetup = {
      mayServe: this.leanPathMatcher(),
      handler,
      // Its own type has private members; it is called only through
      // `loadRequestBodyIfNeeded`, which it has.
      bodyParser: LeanJsonBodyParser.over(
        bodyParser,
        parserOptions,
      ) as RequestBodyParser,
      validation: {...(parserOptions?.validation ?? {}), ajvFactory},
      strategy,
      guard,
    };
    await this.openFrontDoor(server, setup);
    return setup;
  }

  /**
   * Opens the front door when the REST server's middleware chain is as the
   * component set it up: the lean routes' requests are then answered ahead
   * of Express and the sequence, with the same middleware called directly
   * (CORS, the path check, helmet, request observability), the lean path's
   * steps, and the sequence's own `send` and `reject`. Anything else, and
   * any request the lean path would not serve, goes to Express as before.
   * A route is served there once a request through the pipeline planned it.
   */
  private async openFrontDoor(server: RestServer, setup: LeanSetup) {
    const refusal = this.frontDoorRefusal(server);
    if (refusal) {
      this.logger.info(
        {reason: refusal},
        'Lean routes front door closed: the lean routes are served in the sequence',
      );
      return;
    }
    const express = server.requestHandler as unknown as ExpressAppLike;
    const [send, reject, observer, state, headers] = await Promise.all([
      server.get<Send>(SequenceActions.SEND),
      server.get<Reject>(SequenceActions.REJECT),
      instantiateClass(RequestObservabilityProvider, this.app),
      this.app.get(TaskObservabilityBindings.SERVICE_STATE),
      server.get<ExpressRequestHandler>(SECURITY_HEADERS_HANDLER, {
        optional: true,
      }),
    ]);
    const door: FrontDoor = {
      express,
      parseQuery: express.get('query parser fn') as FrontDoor['parseQuery'],
      observer,
      state,
      // As the server makes its own CORS middleware, from the same options.
      cors: cors(server.config.cors) as ExpressRequestHandler,
      headers,
      send,
      reject,
    };
    const pipeline = express.handle;
    express.handle = (request, response, done) => {
      this.enter(door, setup, request, response).then(
        served => {
          if (!served) pipeline.call(express, request, response, done);
        },
        () => pipeline.call(express, request, response, done),
      );
    };
  }

  /** Why the front door stays closed on this server; none when it can open. */
  private frontDoorRefusal(server: RestServer): string | undefined {
    const express = server.requestHandler as unknown as Partial<ExpressAppLike>;
    if (
      typeof express.handle !== 'function' ||
      typeof express.get !== 'function' ||
      typeof express.get('query parser fn') !== 'function'
    ) {
      return 'the request handler is not an Express app';
    }
    if (express.enabled?.('x-powered-by')) return 'X-Powered-By is on';
    if (server.config.basePath) return 'the server has a base path';
    const chain = server.find(extensionFilter(RestTags.REST_MIDDLEWARE_CHAIN));
    const unknown = chain.find(b => !FRONT_DOOR_CHAIN.has(b.key));
    if (unknown) return `middleware ${unknown.key}`;
    const observability = chain.find(
      b => b.key === 'middleware.TaskRequestObservability',
    );
    if (observability?.providerConstructor !== RequestObservabilityProvider) {
      return "request observability is not the service's own";
    }
    return undefined;
  }

  /**
   * Answers the request at the front door when the lean path serves it;
   * false, having read and written nothing, when Express is to have it.
   */
  private async enter(
    door: FrontDoor,
    setup: LeanSetup,
    incoming: IncomingMessage,
    outgoing: ServerResponse,
  ): Promise<boolean> {
    // A request an outer Express app hands on (the app mounted in one) is
    // that app's to route: its path is relative to the mount.
    if ((incoming as Partial<Request>).originalUrl !== undefined) return false;
    const url = incoming.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    if (
      !incoming.headers.authorization ||
      door.state.refusesRequests ||
      !setup.mayServe(incoming.method ?? '', path)
    ) {
      return false;
    }
    const {request, response} = asExpress(
      door,
      incoming,
      outgoing,
      mark < 0 ? undefined : url.slice(mark + 1),
    );
    let route: ResolvedRoute;
    try {
      route = setup.handler.findRoute(request);
    } catch {
      return false;
    }
    const plan = this.plans.get(route.spec);
    if (!plan || !passes(refuseInheritedPathSegments, request, response)) {
      return false;
    }
    const user = await this.admit(setup, plan, request);
    if (!user) return false;
    // From here on the request is this door's to answer, whatever happens.
    const answer = async () => {
      try {
        await run(door.cors, request, response);
        if (door.headers) await run(door.headers, request, response);
        const result = await this.answer(setup, plan, route, request, user);
        door.send(response, result);
      } catch (err) {
        door.reject({request, response}, err as Error);
      }
    };
    await door.observer
      .observe(request, response, answer, () => route.path)
      .catch(err => door.reject({request, response}, err as Error));
    return true;
  }

  /**
   * A test of verb and path that every request to a lean route passes (and
   * a few others may: the router decides), from the lean methods' OpenAPI
   * paths, so that a request to any other route is routed once, by the
   * pipeline.
   */
  private leanPathMatcher(): LeanSetup['mayServe'] {
    const patterns = new Map<string, RegExp[]>();
    for (const binding of this.app.findByTag(LEAN_ROUTE_METHOD_TAG)) {
      const {controller, method} = binding.getValue(
        this.app,
      ) as LeanRouteMethod;
      const spec = getControllerSpec(controller);
      for (const [path, operations] of Object.entries(spec.paths ?? {})) {
        for (const [verb, operation] of Object.entries(operations ?? {})) {
          if ((operation as OperationObject)?.['x-operation-name'] !== method) {
            continue;
          }
          const template = `${spec.basePath ?? ''}${path}`
            .split(/\{[^}]+\}/)
            .map(part => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
            .join('[^/]+');
          const list = patterns.get(verb.toUpperCase()) ?? [];
          list.push(new RegExp(`^${template}/?$`, 'i'));
          patterns.set(verb.toUpperCase(), list);
        }
      }
    }
    return (verb, path) =>
      patterns.get(verb.toUpperCase())?.some(re => re.test(path)) ?? false;
  }

  /**
   * The strategy that answers to the bearer name, when there is exactly
   * one and it is the service's own; none otherwise.
   */
  private async serviceBearerStrategy(): Promise<
    BearerJwtStrategy | undefined
  > {
    const bindings = this.app.find(
      extensionFilter(
        AuthenticationBindings.AUTHENTICATION_STRATEGY_EXTENSION_POINT_NAME,
      ),
    );
    const bearers = (
      await Promise.all(
        bindings.map(b => this.app.get<AuthenticationStrategy>(b.key)),
      )
    ).filter(s => s.name === JWT_STRATEGY_NAME);
    return bearers.length === 1 && bearers[0] instanceof BearerJwtStrategy
      ? bearers[0]
      : undefined;
  }

  /** Why the lean path cannot serve this app; none when it can. */
  private refusal(server: RestServer): string | undefined {
    const sequence = server.getBinding(RestBindings.SEQUENCE, {
      optional: true,
    });
    if (sequence?.valueConstructor !== MiddlewareSequence) {
      return 'the app binds a sequence of its own';
    }
    const authorizers = this.app.findByTag(AuthorizationTags.AUTHORIZER);
    if (
      authorizers.length !== 1 ||
      authorizers[0].key !== TaskAuthBindings.PERMISSION_AUTHORIZER.key
    ) {
      return 'the app binds authorizers of its own';
    }
    for (const b of this.app.findByTag(ContextTags.GLOBAL_INTERCEPTOR)) {
      const ctor = b.providerConstructor ?? b.valueConstructor;
      if (
        ctor !== AuthorizationInterceptor &&
        ctor !== RequestGuardInterceptor
      ) {
        return `global interceptor ${b.key}`;
      }
    }
    return undefined;
  }

  private boundTo(key: string, ctor: Constructor<unknown>): boolean {
    const binding: Binding | undefined = this.app.getBinding(key, {
      optional: true,
    });
    return binding?.providerConstructor === ctor;
  }
}

/**
 * Whether the permission authorizer allows `user` the plan's method: the
 * same decision (`decideByPermissions`) without a context built for it on every request.
 */
function allows(user: TaskUserProfile, plan: LeanPlan): boolean {
  return (
    decideByPermissions(user, plan.authorization) ===
    AuthorizationDecision.ALLOW
  );
}

/** Whether the key (`user:<id>`) may make one more call under `limit`. */
async function underLimit(limit: RateLimit, key: string): Promise<boolean> {
  if (!limit.limiter) return true;
  const state = await limit.limiter.get(key);
  return !state || state.consumedPoints < limit.limiter.points;
}

function interceptorsOf(
  controller: Constructor<object>,
  method: string,
): InterceptorOrKey[] {
  return [
    ...(MetadataInspector.getClassMetadata(INTERCEPT_CLASS_KEY, controller) ??
      []),
    ...(MetadataInspector.getMethodMetadata(
      INTERCEPT_METHOD_KEY,
      controller.prototype,
      method,
    ) ?? []),
  ];
}

/**
 * The request and response as Express's first middleware makes them (its
 * prototypes, each linked to the other, `res.locals`) with the query parsed
 * by the app's own parser, as its query middleware does.
 */
function asExpress(
  door: FrontDoor,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  query: string | undefined,
): {request: Request; response: Response} {
  const request = Object.setPrototypeOf(
    incoming,
    door.express.request,
  ) as Request;
  const response = Object.setPrototypeOf(
    outgoing,
    door.express.response,
  ) as Response;
  request.res = response;
  response.req = request;
  response.locals = response.locals ?? Object.create(null);
  request.originalUrl = request.url;
  request.baseUrl = '';
  request.query = door.parseQuery(query) as Request['query'];
  return {request, response};
}

/** Whether `handler` lets the request through at once (calls `next` without an error). */
function passes(
  handler: ExpressRequestHandler,
  request: Request,
  response: Response,
): boolean {
  let passed = false;
  handler(request, response, err => {
    passed = !err;
  });
  return passed;
}

/** Runs an Express handler that goes on by calling `next`. */
function run(
  handler: ExpressRequestHandler,
  request: Request,
  response: Response,
): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      handler(request, response, err => (err ? reject(err) : resolve()));
    } catch (err) {
      reject(err);
    }
  });
}
