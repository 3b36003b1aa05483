import pino, {DestinationStream, LoggerOptions} from 'pino';
import {currentLogContext} from './log-context';
import {LogFields, LogFormat, LogLevel, TaskLogger} from './types';

/** Fields whose values never reach a log line, wherever they appear. */
export const REDACTED_PATHS: readonly string[] = [
  'authorization',
  'apiSecret',
  'api_secret',
  'secret',
  'token',
  'password',
  'signature',
  '*.authorization',
  '*.apiSecret',
  '*.api_secret',
  '*.secret',
  '*.token',
  '*.password',
  '*.signature',
  'headers["x-api-secret"]',
  'headers["x-task-signature"]',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers["x-api-secret"]',
  '*.headers["x-task-signature"]',
  '*.headers.cookie',
];

const CENSOR = '[redacted]';

/** Credentials in a URL (`user:password@`) and secret-looking query parameters. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi;
const SECRET_QUERY =
  /([?&](?:access_token|token|api[_-]?secret|api[_-]?key|secret|password|signature)=)[^&\s#"']+/gi;
const BEARER = /(bearer\s+)[A-Za-z0-9._~+/=-]+/gi;

/**
 * Removes what must not be logged from free text (an error message that
 * quotes a URL, say): URL credentials, secret query values, bearer tokens.
 */
export function scrub(text: string): string {
  return text
    .replace(URL_CREDENTIALS, `$1${CENSOR}@`)
    .replace(SECRET_QUERY, `$1${CENSOR}`)
    .replace(BEARER, `$1${CENSOR}`);
}

/** A request URL as logged: the path, never the query string. */
export function pathOf(url: string | undefined): string {
  if (!url) return '';
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/** A URL as logged: scheme, host and path; no credentials, query or fragment. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return pathOf(scrub(url));
  }
}

/**
 * Errors as logged: type, message, code and HTTP status, without the stack
 * (database and engine errors carry long ones, and an operator reads the
 * message). Set the level to `debug` to get stacks as `err.stack`.
 */
export function errorFields(err: unknown, withStack = false): LogFields {
  if (!(err instanceof Error)) return {message: scrub(String(err))};
  const {code, statusCode, status} = err as Error & {
    code?: unknown;
    statusCode?: unknown;
    status?: unknown;
  };
  const fields: LogFields = {
    type: err.name,
    message: scrub(err.message),
  };
  if (code !== undefined) fields.code = code;
  const httpStatus = statusCode ?? status;
  if (typeof httpStatus === 'number') fields.status = httpStatus;
  if (withStack && err.stack) fields.stack = scrub(err.stack);
  return fields;
}

export interface CreateTaskLoggerOptions {
  /** Default `info`. */
  level?: LogLevel;
  /** Default `json`. */
  format?: LogFormat;
  /** Where lines go; default standard output. */
  destination?: DestinationStream;
  /** Fields on every line; default `{service: 'task-service'}`. */
  base?: LogFields;
}

/**
 * The default logger: pino, JSON lines (or readable ones with `pretty`),
 * ISO times, level names, the fields of the current log context on every
 * line, secrets redacted.
 */
export function createTaskLogger(
  options: CreateTaskLoggerOptions = {},
): pino.Logger {
  const level = options.level ?? 'info';
  const withStack = level === 'debug' || level === 'trace';
  const config: LoggerOptions = {
    level,
    base: options.base ?? {service: 'task-service'},
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {level: label => ({level: label})},
    // A fresh object each time: pino merges the call's fields into it.
    mixin: () => currentLogContext(),
    redact: {paths: [...REDACTED_PATHS], censor: CENSOR},
    serializers: {err: (err: unknown) => errorFields(err, withStack)},
    hooks: {
      logMethod(args, method) {
        // Messages are free text and may quote a URL or a header.
        const scrubbed = args.map(arg =>
          typeof arg === 'string' ? scrub(arg) : arg,
        ) as typeof args;
        method.apply(this, scrubbed);
      },
    },
  };
  const logger = pino(
    config,
    options.destination ?? destinationFor(options.format),
  );
  const plain = logger.child({}, {redact: {paths: [], censor: CENSOR}});
  // A child takes its parent's level once; a later change is followed.
  logger.on('level-change', (label, _value, _prevLabel, _prevValue, from) => {
    if (from === logger) plain.level = label;
  });
  unredacted.set(logger, plain);
  return logger;
}

/** Each logger of `createTaskLogger`, without its redaction. */
const unredacted = new WeakMap<object, TaskLogger>();

/**
 * The same lines without redaction, for a line whose fields the service
 * sets itself and which can hold no secret (the request line: method,
 * path without its query, route, status, duration, and the log context).
 * Redacting such a line walked every path for nothing, a twentieth of a
 * busy route's CPU. A logger not made by `createTaskLogger` is returned as
 * it is.
 */
export function withoutRedaction(logger: TaskLogger): TaskLogger {
  return unredacted.get(logger) ?? logger;
}

function destinationFor(format: LogFormat = 'json'): DestinationStream {
  if (format === 'pretty') {
    // Loaded only when asked for; synchronous, so nothing is lost at exit.
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pretty({
      sync: true,
      colorize: process.stdout.isTTY,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
    });
  }
  // Written without blocking the event loop: a synchronous write per line
  // cost a tenth of a busy route's CPU. pino flushes it when the process
  // exits.
  return pino.destination({dest: 1, sync: false});
}

let fallback: TaskLogger | undefined;

/**
 * The logger of a part used outside the component (a connector built by
 * hand, say): JSON lines at `info` on standard output, made once.
 */
export function fallbackLogger(): TaskLogger {
  fallback ??= createTaskLogger();
  return fallback;
}
