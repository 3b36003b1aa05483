/**
 * What a refusal means to whoever asked, whatever the transport. Services
 * and engine adapters throw `TaskServiceError`s; the HTTP layer turns each
 * kind into its status in one place (`controllers/http-errors.ts`).
 */
export type RefusalKind =
  /** The request itself is wrong (HTTP 400). */
  | 'invalid'
  /** The caller's credentials are missing or wrong (HTTP 401). */
  | 'unauthenticated'
  /** What the request names is not there (HTTP 404). */
  | 'not-found'
  /** The request collides with the current state (HTTP 409). */
  | 'conflict'
  /** Well-formed, but refused by a rule (HTTP 422). */
  | 'rejected'
  /** A part the request needs is not running (HTTP 503). */
  | 'unavailable';

/** A request the service refuses, saying what kind of refusal it is and why. */
export class TaskServiceError extends Error {
  constructor(
    readonly kind: RefusalKind,
    message: string,
    /** Structured reasons (say, every schema violation), shown to the caller. */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Connection failures of Node's sockets, undici (`fetch`) and the MySQL driver. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'PROTOCOL_CONNECTION_LOST',
]);

/** PostgreSQL: too many connections, shutting down, starting up. */
const UNAVAILABLE_SQLSTATES = new Set(['53300', '57P01', '57P02', '57P03']);

/**
 * Whether an error says that a part the service needs (the workflow engine,
 * the database) cannot be reached or is not serving now: a condition that
 * passes, not a fault of what was being handled, so worth waiting for. True
 * for a `TaskServiceError` of kind `unavailable`, an error with HTTP status
 * 502, 503 or 504 (the Camunda adapter reports an unreachable engine as
 * 503), a refused, reset or timed-out connection, and PostgreSQL's
 * connection errors (SQLSTATE class 08, shutdown, too many connections),
 * also when it is the `cause` of the error.
 */
export function isUnavailableError(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof TaskServiceError) return e.kind === 'unavailable';
    const {status, code, cause} = e as {
      status?: unknown;
      code?: unknown;
      cause?: unknown;
    };
    if (status === 502 || status === 503 || status === 504) return true;
    if (typeof code === 'string') {
      if (UNREACHABLE_CODES.has(code)) return true;
      if (UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))
        return true;
    }
    e = cause;
  }
  return false;
}
