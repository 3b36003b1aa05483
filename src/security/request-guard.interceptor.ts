import {
  asGlobalInterceptor,
  BindingScope,
  filterByTag,
  Getter,
  inject,
  injectable,
  INTERCEPT_CLASS_KEY,
  Interceptor,
  InvocationContext,
  MetadataInspector,
  Next,
  Provider,
} from '@loopback/core';
import {Model, RepositoryTags} from '@loopback/repository';
import {
  HttpErrors,
  isReferenceObject,
  OperationObject,
  ParameterObject,
  ReferenceObject,
  Request,
  REQUEST_BODY_INDEX,
  ResolvedRoute,
  RestBindings,
  RouteSource,
  SchemaObject,
  SchemasObject,
  validateValueAgainstSchema,
} from '@loopback/rest';
import {asHttpErrors} from '../controllers/http-errors';
import {
  DEFAULT_FILTER_LIMITS,
  FilterLimits,
  InvalidFilterError,
  PROTOTYPE_KEYS,
  validateFilter,
  validateWhere,
} from './filter-validator';
import {TaskSecurityBindings} from './keys';
import {TaskSecurityConfig} from './types';

/**
 * Whether `target` is a controller of the service: they all answer refusals
 * through `asHttpErrors`. The host app's own routes (`GET /ping?msg=…` of an
 * app made by `lb4 app`) are the host's to check.
 */
function isServiceController(target: unknown): boolean {
  const controller = (target as object | undefined)?.constructor;
  if (typeof controller !== 'function') return false;
  const interceptors = MetadataInspector.getClassMetadata(
    INTERCEPT_CLASS_KEY,
    controller,
  );
  return interceptors?.includes(asHttpErrors) ?? false;
}

/** The global interceptor group of the guard; it sorts after `authorization`. */
export const REQUEST_GUARD_GROUP = 'validation';

const DEFAULT_MAX_BODY_DEPTH = 32;

/** PostgreSQL class 22 (data exception): a value the column cannot hold. */
const PG_DATA_EXCEPTION = /^22[0-9A-Z]{3}$/;
/** MySQL's words for the same. */
const MYSQL_DATA_EXCEPTIONS = new Set([
  'ER_DATA_TOO_LONG',
  'ER_TRUNCATED_WRONG_VALUE',
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  'ER_WARN_DATA_OUT_OF_RANGE',
  'ER_INVALID_CHARACTER_STRING',
  'ER_INVALID_JSON_TEXT',
]);
const UNIQUE_VIOLATIONS = new Set(['23505', 'ER_DUP_ENTRY']);

interface ParameterPlan {
  spec: ParameterObject;
  argIndex: number;
  /** For a filter or where parameter: the model it names, when registered. */
  model?: typeof Model;
  filter?: 'filter' | 'where';
  allowWhere?: boolean;
}

interface RoutePlan {
  parameters: ParameterPlan[];
  query: Map<string, ParameterPlan>;
  body?: {
    argIndex: number;
    required: boolean;
    schema?: SchemaObject | ReferenceObject;
  };
}

/**
 * One guard for every route of the service, whatever the sequence: it runs after
 * authorization and before the controller method, and refuses, with a 4xx
 * that names the problem, what would otherwise reach the database or the
 * engine as a malformed request:
 *
 * - query parameters the route does not declare (a misspelt `where` would
 *   be ignored and match every row), prototype keys, malformed
 *   percent-encoding, and a `filter`/`where` that was given but parsed to
 *   nothing;
 * - every `filter` and `where` is checked against its model
 *   (`validateFilter`): properties, operators, dates, uuids, numbers,
 *   relations, regular expressions, nesting;
 * - a route with a JSON body gets one: missing or `null` is a 400, a body
 *   without a content type a 415, and a body LoopBack did not validate is
 *   validated against the route's schema (maximum lengths included);
 * - NUL characters anywhere, and bodies nested deeper than the limit.
 *
 * As a last line, a database refusal of a value (PostgreSQL class 22, MySQL
 * data errors) is a 400 and a unique violation a 409, never a 500.
 */
@injectable(asGlobalInterceptor(REQUEST_GUARD_GROUP), {
  scope: BindingScope.SINGLETON,
})
export class RequestGuardInterceptor implements Provider<Interceptor> {
  private readonly plans = new WeakMap<OperationObject, RoutePlan>();
  private readonly filterLimits: FilterLimits;
  private readonly maxBodyDepth: number;

  constructor(
    @inject.getter(filterByTag(RepositoryTags.MODEL))
    private readonly getModels: Getter<(typeof Model)[]>,
    @inject(TaskSecurityBindings.CONFIG, {optional: true})
    config: TaskSecurityConfig = {},
  ) {
    this.filterLimits = {...DEFAULT_FILTER_LIMITS, ...config.filterLimits};
    this.maxBodyDepth = config.maxBodyDepth ?? DEFAULT_MAX_BODY_DEPTH;
  }

  value(): Interceptor {
    return (ctx, next) => this.guard(ctx, next);
  }

  private async guard(ctx: InvocationContext, next: Next) {
    if (!(ctx.source instanceof RouteSource)) return next();
    if (!isServiceController(ctx.target)) return next();
    const route = ctx.source.value as Partial<ResolvedRoute>;
    const spec = route.spec;
    if (!spec || spec['x-visibility'] === 'undocumented') return next();
    const request = await ctx.get(RestBindings.Http.REQUEST, {
      optional: true,
    });
    if (!request) return next();
    await this.checkRequest(request, spec, route.schemas ?? {}, ctx.args);
    try {
      return await next();
    } catch (err) {
      throw asClientError(err, request);
    }
  }

  /**
   * The checks of one request to a route of the service (its operation
   * `spec`, the route's `schemas`, the parsed arguments): a 4xx when
   * something is refused. The route pipeline runs them before the method;
   * so do the lean routes.
   */
  async checkRequest(
    request: Request,
    spec: OperationObject,
    schemas: SchemasObject,
    args: unknown[],
  ): Promise<void> {
    const plan = await this.planFor(spec, schemas);
    await this.check(request, plan, args, schemas);
  }

  private async check(
    request: Request,
    plan: RoutePlan,
    args: unknown[],
    schemas: SchemasObject,
  ): Promise<void> {
    const given = readRawQuery(request, plan);
    for (const parameter of plan.parameters) {
      const value = args[parameter.argIndex];
      refuseNul(value, parameter.spec.name);
      if (parameter.filter) {
        this.checkFilterParameter(
          parameter,
          value,
          given.get(parameter.spec.name),
        );
      }
    }
    if (plan.body) await this.checkBody(request, plan.body, args, schemas);
  }

  private checkFilterParameter(
    parameter: ParameterPlan,
    value: unknown,
    raw: string[] | undefined,
  ): void {
    const name = parameter.spec.name;
    if (raw && isEmpty(value) && !(raw.length === 1 && raw[0] === '{}')) {
      throw badRequest(
        `Query parameter ${name} was given but reads as empty; send it as JSON (${name}={...}) or omit it.`,
        'INVALID_FILTER',
      );
    }
    if (value === undefined) return;
    try {
      if (!parameter.model) {
        refusePrototypeKeys(value, name);
      } else if (parameter.filter === 'where') {
        validateWhere(parameter.model, value, {
          path: name,
          limits: this.filterLimits,
        });
      } else {
        validateFilter(parameter.model, value, {
          path: name,
          allowWhere: parameter.allowWhere,
          limits: this.filterLimits,
        });
      }
    } catch (err) {
      if (err instanceof InvalidFilterError) {
        throw badRequest(err.message, 'INVALID_FILTER');
      }
      throw err;
    }
  }

  private async checkBody(
    request: Request,
    body: NonNullable<RoutePlan['body']>,
    args: unknown[],
    schemas: SchemasObject,
  ): Promise<void> {
    const value = args[body.argIndex];
    const length = Number(request.headers['content-length'] ?? 0);
    const sent =
      length > 0 || request.headers['transfer-encoding'] !== undefined;
    if (sent && !request.headers['content-type']) {
      throw Object.assign(
        new HttpErrors.UnsupportedMediaType(
          'The request body has no Content-Type; send it as application/json.',
        ),
        {code: 'UNSUPPORTED_MEDIA_TYPE'},
      );
    }
    if (value === undefined || value === null) {
      throw badRequest(
        'A JSON request body is required.',
        'MISSING_REQUIRED_PARAMETER',
      );
    }
    refuseNul(value, 'body');
    refuseDeepNesting(value, this.maxBodyDepth);
    // LoopBack skips validating a falsy body on a route that does not mark
    // its body required; every body is validated here.
    if (!body.required && !value && body.schema) {
      await validateValueAgainstSchema(value, body.schema, schemas, {
        source: 'body',
      });
    }
  }

  private async planFor(
    spec: OperationObject,
    schemas: SchemasObject,
  ): Promise<RoutePlan> {
    const known = this.plans.get(spec);
    if (known) return known;
    const models = await this.getModels();
    const requestBody =
      spec.requestBody && !isReferenceObject(spec.requestBody)
        ? spec.requestBody
        : undefined;
    const bodyIndex = requestBody
      ? Number(requestBody[REQUEST_BODY_INDEX] ?? 0)
      : -1;
    const parameters: ParameterPlan[] = (spec.parameters ?? [])
      .filter((p): p is ParameterObject => !isReferenceObject(p))
      .map((p, i) => ({
        spec: p,
        argIndex: bodyIndex >= 0 && i >= bodyIndex ? i + 1 : i,
        ...filterOf(p, schemas, models),
      }));
    const json = requestBody?.content?.['application/json'];
    const plan: RoutePlan = {
      parameters,
      query: new Map(
        parameters
          .filter(p => p.spec.in === 'query')
          .map(p => [p.spec.name, p]),
      ),
      body:
        requestBody && json
          ? {
              argIndex: bodyIndex,
              required: !!requestBody.required,
              schema: json.schema,
            }
          : undefined,
    };
    this.plans.set(spec, plan);
    return plan;
  }
}

/** Which model a `filter` or `where` parameter's schema is about (LoopBack titles them `<model>.Filter`). */
function filterOf(
  parameter: ParameterObject,
  schemas: SchemasObject,
  models: (typeof Model)[],
): Partial<ParameterPlan> {
  if (parameter.in !== 'query') return {};
  const schema = deref(
    parameter.content?.['application/json']?.schema ?? parameter.schema,
    schemas,
  );
  const match = /^(.+)\.(Filter|WhereFilter)$/.exec(schema?.title ?? '');
  if (!schema || !match) return {};
  return {
    model: models.find(m => m.modelName === match[1]),
    filter: match[2] === 'WhereFilter' ? 'where' : 'filter',
    allowWhere: !!schema.properties?.where,
  };
}

function deref(
  schema: SchemaObject | ReferenceObject | undefined,
  schemas: SchemasObject,
): SchemaObject | undefined {
  if (!schema) return undefined;
  if (!isReferenceObject(schema)) return schema;
  const name = schema.$ref.replace(/^#\/components\/schemas\//, '');
  const target = schemas[name];
  return target && !isReferenceObject(target) ? target : undefined;
}

/**
 * Reads the raw query string: every top-level name must be a declared query
 * parameter, no key may reach a prototype, no NUL. Returns the raw values
 * of each name (LoopBack's parser drops what it cannot read).
 */
function readRawQuery(
  request: Request,
  plan: RoutePlan,
): Map<string, string[]> {
  const url = request.originalUrl ?? request.url ?? '';
  const start = url.indexOf('?');
  const given = new Map<string, string[]>();
  if (start < 0) return given;
  for (const pair of url.slice(start + 1).split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decodeQuery(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeQuery(pair.slice(eq + 1));
    refuseNul(key, 'query string');
    refuseNul(value, key);
    const name = key.split('[')[0];
    const segments = [
      name,
      ...[...key.matchAll(/\[([^\]]*)\]/g)].map(m => m[1]),
    ];
    const prototypeKey = segments.find(s => PROTOTYPE_KEYS.has(s));
    if (prototypeKey) {
      throw badRequest(
        `Query key ${key} is not allowed: "${prototypeKey}" would reach an object's prototype.`,
        'INVALID_FILTER',
      );
    }
    if (!plan.query.has(name)) {
      const known = [...plan.query.keys()];
      throw badRequest(
        `Unknown query parameter "${name}"; ${known.length ? `this route takes ${known.join(', ')}` : 'this route takes none'}.`,
        'UNKNOWN_QUERY_PARAMETER',
      );
    }
    given.set(name, [
      ...(given.get(name) ?? []),
      key === name ? value : `${key}=${value}`,
    ]);
  }
  return given;
}

function decodeQuery(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw badRequest(
      'The query string is not valid percent-encoding.',
      'INVALID_QUERY_STRING',
    );
  }
}

/** 400 when a string anywhere in `value` (keys too) holds a NUL character. */
function refuseNul(value: unknown, where: string): void {
  const stack: unknown[] = [value];
  while (stack.length) {
    const item = stack.pop();
    if (typeof item === 'string') {
      if (item.includes('\u0000')) {
        throw badRequest(
          `The ${where} holds a NUL character (\\u0000), which no text column can store.`,
          'NUL_CHARACTER',
        );
      }
    } else if (item && typeof item === 'object') {
      for (const [key, inner] of Object.entries(item)) {
        stack.push(key, inner);
      }
    }
  }
}

function refuseDeepNesting(value: unknown, maxDepth: number): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (!item || typeof item !== 'object') continue;
    if (depth >= maxDepth) {
      throw badRequest(
        `The body nests deeper than ${maxDepth} levels.`,
        'BODY_TOO_DEEP',
      );
    }
    for (const inner of Object.values(item)) stack.push([inner, depth + 1]);
  }
}

function refusePrototypeKeys(value: unknown, where: string): void {
  const stack: unknown[] = [value];
  while (stack.length) {
    const item = stack.pop();
    if (!item || typeof item !== 'object') continue;
    for (const [key, inner] of Object.entries(item)) {
      if (PROTOTYPE_KEYS.has(key)) {
        throw badRequest(
          `${where} holds the key "${key}", which is not allowed.`,
          'INVALID_FILTER',
        );
      }
      stack.push(inner);
    }
  }
}

function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    (typeof value === 'object' && Object.keys(value).length === 0)
  );
}

function badRequest(message: string, code: string): HttpErrors.HttpError {
  return Object.assign(new HttpErrors.BadRequest(message), {code});
}

/**
 * The last line: a database refusal of a request's value is the client's
 * mistake (400, or 409 for a duplicate), never a 500. Headers an error
 * carries (`Retry-After`) are set on the response.
 */
export function asClientError(err: unknown, request?: Request): unknown {
  if (!err || typeof err !== 'object') return err;
  const {headers, code, message, detail} = err as {
    headers?: Record<string, string>;
    code?: unknown;
    message?: string;
    detail?: string;
  };
  if (headers && request?.res && !request.res.headersSent) {
    request.res.set(headers);
  }
  if (err instanceof HttpErrors.HttpError || typeof code !== 'string') {
    return err;
  }
  if (PG_DATA_EXCEPTION.test(code) || MYSQL_DATA_EXCEPTIONS.has(code)) {
    return badRequest(
      `Invalid value in the request: ${message}`,
      'INVALID_VALUE',
    );
  }
  if (UNIQUE_VIOLATIONS.has(code)) {
    return Object.assign(
      new HttpErrors.Conflict(
        detail
          ? `Already exists: ${detail}`
          : 'A row with the same unique values already exists.',
      ),
      {code: 'ALREADY_EXISTS'},
    );
  }
  return err;
}
