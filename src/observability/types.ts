/** Log levels, from the most to the least verbose. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** `json`: one JSON object a line (production); `pretty`: readable lines (development). */
export type LogFormat = 'json' | 'pretty';

/** Fields of a log line that name what it is about. */
export type LogFields = Record<string, unknown>;

/** One logging method: fields and a message, or a message alone. */
export interface LogMethod {
  (fields: LogFields, message?: string): void;
  (message: string): void;
}

/**
 * The logger the service writes to, bound at `TaskObservabilityBindings.LOGGER`.
 * A pino logger satisfies it; so does any logger with these methods and a
 * `child()` that returns one carrying the given fields on every line.
 */
export interface TaskLogger {
  trace: LogMethod;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  child(fields: LogFields): TaskLogger;
  /**
   * Optional (pino has it): whether lines of `level` are written, so a
   * frequent line's fields are built only when they are. Without it they
   * are always built.
   */
  isLevelEnabled?(level: LogLevel): boolean;
}

/** Logging of the default logger (`createTaskLogger`). */
export interface TaskLoggingConfig {
  /** Default `info`. */
  level?: LogLevel;
  /** Default `json`. */
  format?: LogFormat;
}

/** `GET /ready`. */
export interface ReadinessConfig {
  /**
   * The outbox is unhealthy when its oldest unpublished event is older than
   * this (ms): the outgoing side is stuck. Default 300000 (5 min).
   */
  outboxMaxAgeMs?: number;
  /** A check that has not answered in this time (ms) fails; default 3000. */
  checkTimeoutMs?: number;
}

/** `GET /metrics`: where it is served and who may read it. */
export interface MetricsConfig {
  /** false: no metrics endpoint (the counters still run); default true. */
  enabled?: boolean;
  /**
   * A bearer token a scrape must send (`Authorization: Bearer <token>`).
   * Without it (and without `port`) anyone who reaches the app reads the metrics.
   */
  token?: string;
  /**
   * Serve `/metrics` on a port of its own (not on the REST server), for
   * example one only the monitoring network reaches. 0 picks a free port.
   */
  port?: number;
  /** The host of that port; default `127.0.0.1`. */
  host?: string;
  /** Node.js process metrics (CPU, memory, event loop, GC); default true. */
  processMetrics?: boolean;
}

/** How `app.stop()` drains the service. */
export interface ShutdownConfig {
  /**
   * How long (ms) `/ready` answers 503 before the server stops taking
   * requests, so a load balancer sees it first; default 0.
   */
  drainDelayMs?: number;
  /**
   * The bound (ms) for the whole drain: requests in flight, running
   * commands, webhook POSTs in flight, the outbox relay. What is still
   * running then is left to the engine's lock expiry and the delivery
   * claims, which hand it to another instance. Default 20000.
   */
  timeoutMs?: number;
}

/** Config of logging, health, metrics and shutdown, bound at `TaskObservabilityBindings.CONFIG`. */
export interface TaskObservabilityConfig {
  logging?: TaskLoggingConfig;
  readiness?: ReadinessConfig;
  metrics?: MetricsConfig;
  shutdown?: ShutdownConfig;
}

/**
 * Something a readiness check can ask whether it works: a connector with a
 * broker behind it, for example. `checkHealth()` throws when it does not.
 */
export interface HealthCheckable {
  /** The name the check has in `/ready` (e.g. `kafka`). */
  readonly healthCheckName: string;
  checkHealth(): Promise<void>;
}

export function isHealthCheckable(value: unknown): value is HealthCheckable {
  const candidate = value as Partial<HealthCheckable> | undefined;
  return (
    typeof candidate?.checkHealth === 'function' &&
    typeof candidate.healthCheckName === 'string'
  );
}

/** One check of `GET /ready`. */
export interface ReadinessCheckResult {
  name: string;
  status: 'up' | 'down';
  durationMs: number;
  /** Why it is down. */
  error?: string;
}

/** The answer of `GET /ready`. */
export interface ReadinessReport {
  status: 'UP' | 'DOWN';
  /** The names of the checks that failed. */
  failing: string[];
  checks: ReadinessCheckResult[];
}
