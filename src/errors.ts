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
