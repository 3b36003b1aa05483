/** Everything the example app reads from its environment (see the README). */
export interface ExampleConfig {
  port: number;
  host: string;
  db: {
    host: string;
    port: number;
    user: string;
    password?: string;
    database: string;
    schema: string;
  };
  camundaUrl: string;
  /** The engine tenant this deployment owns (default: the database name). */
  camundaTenantId: string;
  jwtSecret: string;
  /** RS256 public key (PEM); takes precedence over the secret. */
  jwtPublicKey?: string;
  jwtIssuer?: string;
  incoming: 'http' | 'kafka';
  outgoing: 'http' | 'kafka';
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    ssl: boolean;
    topics: string[];
    outputTopic: string;
  };
}

const DEFAULT_DATABASE = 'taskdb';

/** The development secret, used only when JWT_SECRET is not set. */
export const DEV_JWT_SECRET = 'task-service-development-secret';

function side(name: string, value: string | undefined): 'http' | 'kafka' {
  const v = (value ?? 'http').toLowerCase();
  if (v !== 'http' && v !== 'kafka') {
    throw new Error(`${name} must be "http" or "kafka", not "${value}".`);
  }
  return v;
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
  return {
    port: Number(env.PORT ?? 3000),
    host: env.HOST ?? '127.0.0.1',
    db: {
      host: env.DB_HOST ?? '127.0.0.1',
      port: Number(env.DB_PORT ?? 5432),
      user: env.DB_USER ?? 'postgres',
      password: env.DB_PASSWORD,
      database: env.DB_DATABASE ?? DEFAULT_DATABASE,
      schema: env.DB_SCHEMA ?? 'main',
    },
    camundaUrl: env.CAMUNDA_URL ?? 'http://127.0.0.1:8080/engine-rest',
    camundaTenantId:
      env.CAMUNDA_TENANT_ID ?? env.DB_DATABASE ?? DEFAULT_DATABASE,
    jwtSecret: env.JWT_SECRET ?? DEV_JWT_SECRET,
    jwtPublicKey: env.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
    jwtIssuer: env.JWT_ISSUER,
    incoming: side('TASK_INCOMING', env.TASK_INCOMING),
    outgoing: side('TASK_OUTGOING', env.TASK_OUTGOING),
    kafka: {
      brokers: list(env.KAFKA_SERVER, ['127.0.0.1:9092']),
      clientId: env.KAFKA_CLIENT_ID ?? 'task-example',
      groupId: env.KAFKA_GROUP_ID ?? 'task-service',
      ssl: env.KAFKA_SSL === 'true',
      topics: list(env.KAFKA_TOPICS, ['task-example.events']),
      outputTopic: env.KAFKA_OUTPUT_TOPIC ?? 'task-example.output',
    },
  };
}
