import {
  CorsConfig,
  parseSecretKeys,
  RateLimitRule,
  SecretKey,
} from 'loopback4-task-service';
import type {LogFormat, LogLevel} from 'loopback4-task-service';

/** Everything the example app reads from its environment (see the README). */
export interface ExampleConfig {
  port: number;
  host: string;
  db: {
    /** `postgresql` or `mysql` (MySQL 8, MariaDB 10.6+). */
    connector: 'postgresql' | 'mysql';
    host: string;
    port: number;
    user: string;
    password?: string;
    database: string;
    /** PostgreSQL only: the datasource schema. */
    schema: string;
  };
  /** `SequelizeDataSource`s and the service's `useSequelize: true` (USE_SEQUELIZE). */
  useSequelize: boolean;
  camundaUrl: string;
  /** The engine tenant this deployment owns (default: the database name). */
  camundaTenantId: string;
  jwtSecret: string;
  /** RS256 public key (PEM); takes precedence over the secret. */
  jwtPublicKey?: string;
  jwtIssuer?: string;
  incoming: 'http' | 'kafka';
  outgoing: 'http' | 'kafka';
  /** Webhooks may go to loopback and private addresses (a local receiver). */
  webhookAllowPrivateUrls: boolean;
  /** Keys of client-app secrets at rest, newest first. */
  clientSecretKeys: SecretKey[];
  /** Undefined: LoopBack's CORS without credentials. */
  cors?: CorsConfig;
  rateLimits: {
    authFailures?: RateLimitRule | false;
    apiCredentialFailures?: RateLimitRule | false;
    trigger?: RateLimitRule | false;
  };
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    ssl: boolean;
    topics: string[];
    outputTopic: string;
  };
  logging: {level: LogLevel; format: LogFormat};
  metrics: {token?: string; port?: number; host: string};
  /** `/ready` fails when the oldest unpublished outgoing event is older (ms). */
  readyOutboxMaxAgeMs: number;
  /** Bound (ms) of the drain on SIGTERM / SIGINT. */
  shutdownTimeoutMs: number;
  /** How long (ms) `/ready` answers 503 before the server stops taking requests. */
  shutdownDrainDelayMs: number;
}

const DEFAULT_DATABASE = 'taskdb';

/** The development secret, used only when JWT_SECRET is not set. */
export const DEV_JWT_SECRET = 'task-service-development-secret';

/** The development key of client secrets, used only when CLIENT_SECRET_KEYS is not set. */
export const DEV_CLIENT_SECRET_KEY: SecretKey = {
  id: 'dev',
  key: Buffer.from('task-service-development-key-32b').toString('base64'),
};

function flag(name: string, value: string | undefined): boolean {
  const v = (value ?? 'false').toLowerCase();
  if (v !== 'true' && v !== 'false') {
    throw new Error(`${name} must be "true" or "false", not "${value}".`);
  }
  return v === 'true';
}

/** `points/seconds` (e.g. `20/60`), `off`, or unset (the service's default). */
function rateLimit(
  name: string,
  value: string | undefined,
): RateLimitRule | false | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.toLowerCase() === 'off') return false;
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
    throw new Error(
      `${name} must be "points/seconds" (e.g. 20/60) or "off", not "${value}".`,
    );
  }
  return {points: Number(match[1]), durationSeconds: Number(match[2])};
}

function corsFromEnv(env: NodeJS.ProcessEnv): CorsConfig | undefined {
  const origins = env.CORS_ORIGINS?.trim();
  if (!origins) return undefined;
  return {
    origins: origins === '*' ? '*' : list(origins, []),
    credentials: flag('CORS_CREDENTIALS', env.CORS_CREDENTIALS),
  };
}

/** The database connector and its port and user defaults. */
function database(value: string | undefined) {
  const connector = (value ?? 'postgresql').toLowerCase();
  if (connector === 'postgresql') {
    return {connector, port: 5432, user: 'postgres'} as const;
  }
  if (connector === 'mysql') {
    return {connector, port: 3306, user: 'root'} as const;
  }
  throw new Error(
    `DB_CONNECTOR must be "postgresql" or "mysql", not "${value}".`,
  );
}

function side(name: string, value: string | undefined): 'http' | 'kafka' {
  const v = (value ?? 'http').toLowerCase();
  if (v !== 'http' && v !== 'kafka') {
    throw new Error(`${name} must be "http" or "kafka", not "${value}".`);
  }
  return v;
}

const LOG_LEVELS: readonly LogLevel[] = [
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
];

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined || value === '') return fallback;
  const v = value.toLowerCase() as T;
  if (!allowed.includes(v)) {
    throw new Error(
      `${name} must be one of ${allowed.join(', ')}, not "${value}".`,
    );
  }
  return v;
}

function numberOf(
  name: string,
  value: string | undefined,
  fallback?: number,
): number | undefined {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`${name} must be a whole number, not "${value}".`);
  }
  return n;
}

function list(value: string | undefined, fallback: string[]): string[] {
  const items = (value ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
  return items.length ? items : fallback;
}

export function configFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): ExampleConfig {
  const db = database(env.DB_CONNECTOR);
  return {
    port: Number(env.PORT ?? 3000),
    host: env.HOST ?? '127.0.0.1',
    db: {
      connector: db.connector,
      host: env.DB_HOST ?? '127.0.0.1',
      port: Number(env.DB_PORT ?? db.port),
      user: env.DB_USER ?? db.user,
      password: env.DB_PASSWORD,
      database: env.DB_DATABASE ?? DEFAULT_DATABASE,
      schema: env.DB_SCHEMA ?? 'main',
    },
    useSequelize: flag('USE_SEQUELIZE', env.USE_SEQUELIZE),
    camundaUrl: env.CAMUNDA_URL ?? 'http://127.0.0.1:8080/engine-rest',
    camundaTenantId:
      env.CAMUNDA_TENANT_ID ?? env.DB_DATABASE ?? DEFAULT_DATABASE,
    jwtSecret: env.JWT_SECRET ?? DEV_JWT_SECRET,
    jwtPublicKey: env.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
    jwtIssuer: env.JWT_ISSUER,
    incoming: side('TASK_INCOMING', env.TASK_INCOMING),
    outgoing: side('TASK_OUTGOING', env.TASK_OUTGOING),
    webhookAllowPrivateUrls: flag(
      'WEBHOOK_ALLOW_PRIVATE_URLS',
      env.WEBHOOK_ALLOW_PRIVATE_URLS,
    ),
    clientSecretKeys: env.CLIENT_SECRET_KEYS
      ? parseSecretKeys(env.CLIENT_SECRET_KEYS)
      : [DEV_CLIENT_SECRET_KEY],
    cors: corsFromEnv(env),
    rateLimits: {
      authFailures: rateLimit(
        'RATE_LIMIT_AUTH_FAILURES',
        env.RATE_LIMIT_AUTH_FAILURES,
      ),
      apiCredentialFailures: rateLimit(
        'RATE_LIMIT_API_KEY_FAILURES',
        env.RATE_LIMIT_API_KEY_FAILURES,
      ),
      trigger: rateLimit('RATE_LIMIT_TRIGGER', env.RATE_LIMIT_TRIGGER),
    },
    kafka: {
      brokers: list(env.KAFKA_SERVER, ['127.0.0.1:9092']),
      clientId: env.KAFKA_CLIENT_ID ?? 'task-example',
      groupId: env.KAFKA_GROUP_ID ?? 'task-service',
      ssl: env.KAFKA_SSL === 'true',
      topics: list(env.KAFKA_TOPICS, ['task-example.events']),
      outputTopic: env.KAFKA_OUTPUT_TOPIC ?? 'task-example.output',
    },
    logging: {
      level: oneOf('LOG_LEVEL', env.LOG_LEVEL, LOG_LEVELS, 'info'),
      // Readable lines while developing, JSON lines in production.
      format: oneOf(
        'LOG_FORMAT',
        env.LOG_FORMAT,
        ['json', 'pretty'] as const,
        env.NODE_ENV === 'production' ? 'json' : 'pretty',
      ),
    },
    metrics: {
      token: env.METRICS_TOKEN ? env.METRICS_TOKEN : undefined,
      port: numberOf('METRICS_PORT', env.METRICS_PORT),
      host: env.METRICS_HOST ?? '127.0.0.1',
    },
    readyOutboxMaxAgeMs: numberOf(
      'READY_OUTBOX_MAX_AGE_MS',
      env.READY_OUTBOX_MAX_AGE_MS,
      300_000,
    )!,
    shutdownTimeoutMs: numberOf(
      'SHUTDOWN_TIMEOUT_MS',
      env.SHUTDOWN_TIMEOUT_MS,
      20_000,
    )!,
    shutdownDrainDelayMs: numberOf(
      'SHUTDOWN_DRAIN_DELAY_MS',
      env.SHUTDOWN_DRAIN_DELAY_MS,
      0,
    )!,
  };
}
