import {AnyObject} from '@loopback/repository';

export const TaskDbSourceName = 'taskdb';
export const WorkflowServiceSourceName = 'workflowDb';

/** Config of `TaskServiceComponent`, bound at `TaskServiceBindings.CONFIG`. */
export interface TaskServiceConfig {
  /** true: the host app provides the sequence, authentication and authorization. */
  useCustomSequence: boolean;
  /** Accepted for compatibility; the repositories use the juggler datasources. */
  useSequelize?: boolean;
}

/** The workflow-engine config, bound at `ExportedWorkflowServiceBindingConfig`. */
export interface WorkflowServiceConfig {
  useCustomSequence?: boolean;
  /** Camunda's REST root, for example `http://localhost:8080/engine-rest`. */
  workflowEngineBaseUrl: string;
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
}

/** How the outbox relay hands events to the outgoing connector; bound at `TaskServiceBindings.OUTBOX_CONFIG`. */
export interface EventOutboxConfig {
  /** How often (ms) the relay looks for events to publish; default 250. */
  pollIntervalMs?: number;
  /** Events handed to the connector per round; default 50. */
  batchSize?: number;
  /** Backoff (ms) after the first failed publish; doubles, capped at `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Longest backoff (ms) between two tries of one event; default 60000. */
  maxBackoffMs?: number;
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
