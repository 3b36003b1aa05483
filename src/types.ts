import {AnyObject} from '@loopback/repository';

export const TaskDbSourceName = 'taskdb';
/** The workflows' datasource name; the original's value, so its datasources bind unchanged. */
export const WorkflowServiceSourceName = 'WorkflowCache';

/** Camunda 7's REST root on its default port: the engine used when none is configured. */
export const DEFAULT_WORKFLOW_ENGINE_URL = 'http://localhost:8080/engine-rest';

/** Config of `TaskServiceComponent`, bound at `TaskServiceBindings.CONFIG`. */
export interface TaskServiceConfig {
  /** true: the host app provides the sequence, authentication and authorization. */
  useCustomSequence: boolean;
  /**
   * true: the repositories are built on `@loopback/sequelize`
   * (`SequelizeCrudRepository`), and the host binds `SequelizeDataSource`
   * datasources; default false: the juggler (`DefaultCrudRepository`) on
   * juggler datasources. Same binding keys and behaviour either way.
   */
  useSequelize?: boolean;
  /**
   * false: every request takes the route pipeline. Default true: the
   * hottest routes (`POST /events/trigger`, `GET /tasks`, `GET /events`,
   * `GET /tasks/{taskId}/user-tasks`) serve a request with a valid, allowed
   * token on a lean path that skips the pipeline's per-request dependency
   * injection (same checks and answers; see `LeanRoutesProvider`).
   */
  leanRoutes?: boolean;
}

/** The workflow-engine config, bound at `ExportedWorkflowServiceBindingConfig`. */
export interface WorkflowServiceConfig {
  useCustomSequence?: boolean;
  /**
   * Camunda's REST root; default `http://localhost:8080/engine-rest`
   * (`DEFAULT_WORKFLOW_ENGINE_URL`), also when the value is undefined, as
   * `process.env.CAMUNDA_URL` may be.
   */
  workflowEngineBaseUrl?: string;
  /**
   * false: `app.start()` starts no command workers, so nothing fetches the
   * engine's external tasks (tests of a host app without an engine; an
   * instance that only serves the API). Default true.
   */
  startCommandWorkers?: boolean;
  /**
   * History time to live (days, or an ISO-8601 duration) given to processes
   * whose BPMN sets none; Camunda 7.20+ refuses to deploy them otherwise.
   * Default 180.
   */
  defaultHistoryTimeToLive?: number | string;
  /**
   * The engine tenant this deployment of the service owns. Workflows it
   * deploys carry it, it starts only definitions of this tenant, and its
   * command workers fetch only this tenant's external tasks, so several
   * deployments (each with its own database) can share one engine. Without
   * it the service takes every external task of its topics on the engine.
   */
  engineTenantId?: string;
  /**
   * How long (ms) a command holds an external task before another worker may
   * take it; a running command extends it. Short, so the jobs of a crashed
   * instance are taken over quickly. Default 10000.
   */
  commandLockMs?: number;
  /**
   * Pause (ms) between two fetch-and-lock calls of the command workers;
   * default 20. A fetch long-polls (`workerAsyncResponseTimeoutMs`), so this
   * only spaces out polls that returned; after a failed poll it doubles, up
   * to 5 s.
   */
  workerPollIntervalMs?: number;
  /**
   * External tasks a service instance runs at once (and fetches at most per
   * poll); default 32.
   */
  workerMaxTasks?: number;
  /** How long (ms) one fetch-and-lock long-polls; default 10000. */
  workerAsyncResponseTimeoutMs?: number;
  /** Retries the engine gives a failing command before an incident; default 3. */
  commandRetries?: number;
  /** Backoff (ms) before the first retry of a failing command; doubles each time. */
  commandRetryBackoffMs?: number;
  /**
   * How often (ms) an instance that works commands looks for user tasks
   * that a task's workflow waits at but nobody recorded (the step that
   * reached them completed in the engine, then the process died before
   * recording them); default 30000, 0 turns it off.
   */
  userTaskRepairIntervalMs?: number;
}

/**
 * The engine's REST root in `config`: its `workflowEngineBaseUrl`, or
 * `DEFAULT_WORKFLOW_ENGINE_URL` when that is unset or empty.
 */
export function workflowEngineUrl(
  config?: Partial<WorkflowServiceConfig>,
): string {
  const url = config?.workflowEngineBaseUrl?.trim();
  return (url ? url : DEFAULT_WORKFLOW_ENGINE_URL).replace(/\/+$/, '');
}

/** How the outbox relay hands events to the outgoing connector; bound at `TaskServiceBindings.OUTBOX_CONFIG`. */
export interface EventOutboxConfig {
  /** How often (ms) the relay looks for events to publish; default 250. */
  pollIntervalMs?: number;
  /**
   * Events taken per round, handed to a connector with `publishBatch` in
   * pages of `pageSize`; default 10000. Tasks share the room in turns: each
   * task's next event before any task's second.
   */
  batchSize?: number;
  /**
   * Events of a round handed to a connector with `publishBatch` in one
   * call; the next page is read while one is published. Default 2000.
   */
  pageSize?: number;
  /**
   * Events of one task a round may take, in their order: the first one
   * still to publish and those queued right behind it (each of that task
   * alone); default 500. 1: one event per task per round.
   */
  maxEventsPerTask?: number;
  /** Backoff (ms) after the first failed publish; doubles, capped at `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Longest backoff (ms) between two tries of one event; default 60000. */
  maxBackoffMs?: number;
  /**
   * Failed publishes after which an event is parked (it waits for a replay
   * or a discard, and blocks only the later events of its own tasks);
   * default 10. An event is parked only once the connector has published
   * another event since its previous try, so an outage of the connector
   * parks nothing: every event keeps retrying at `maxBackoffMs`.
   */
  maxAttempts?: number;
}

/** Who did it: fills the audit columns. */
export interface TaskUser {
  id: string;
  username?: string;
  userTenantId?: string;
  permissions: string[];
}

export type Dictionary = AnyObject;

export const DEFAULT_SYSTEM_USER: TaskUser = Object.freeze({
  id: '00000000-0000-0000-0000-000000000000',
  username: 'system',
  permissions: [],
}) as TaskUser;
