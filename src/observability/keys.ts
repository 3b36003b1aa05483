import {BindingKey, LifeCycleObserver} from '@loopback/core';
import type {Registry} from 'prom-client';
import type {TaskMetrics} from './metrics';
import type {ServiceState} from './service-state';
import type {TaskLogger, TaskObservabilityConfig} from './types';

const PREFIX = 'sf.task.observability';

/**
 * Binding keys of logging, metrics, health and shutdown. Each has a default
 * that `TaskServiceComponent` binds unless the host bound it first.
 */
export namespace TaskObservabilityBindings {
  /** `{logging, readiness, metrics, shutdown}`; optional. */
  export const CONFIG = BindingKey.create<TaskObservabilityConfig>(
    `${PREFIX}.config`,
  );
  /**
   * The logger every part of the service writes to. Default: pino from
   * `createTaskLogger(CONFIG.logging)`. Bind your own (pino, or anything
   * with `trace…error` and `child()`); with pino, pass
   * `mixin: currentLogContext` to keep the request, event and task ids on
   * each line.
   */
  export const LOGGER = BindingKey.create<TaskLogger>(`${PREFIX}.logger`);
  /** The service's counters, gauges and histograms. */
  export const METRICS = BindingKey.create<TaskMetrics>(`${PREFIX}.metrics`);
  /**
   * The prom-client registry `/metrics` serves; default a registry of the
   * service's own. Bind prom-client's global `register` to serve the app's
   * own metrics beside the service's.
   */
  export const METRICS_REGISTRY = BindingKey.create<Registry>(
    `${PREFIX}.metrics.registry`,
  );
  /** Whether the app has started and is not shutting down. */
  export const SERVICE_STATE = BindingKey.create<ServiceState>(
    `${PREFIX}.state`,
  );
  /** Stops the service in order on `app.stop()` (see `GracefulShutdownObserver`). */
  export const SHUTDOWN_OBSERVER = BindingKey.create<LifeCycleObserver>(
    `${PREFIX}.shutdown`,
  );
}

/** Binding tags of the observability pieces. */
export namespace TaskObservabilityTags {
  /**
   * A background worker (a life-cycle observer) that the graceful shutdown
   * stops after the commands and before the outbox relay, within its bound:
   * the HTTP connector's webhook delivery worker, for example.
   */
  export const BACKGROUND_WORKER = 'taskService.backgroundWorker';
}

/** The life-cycle group of the graceful shutdown: started last, stopped first. */
export const SHUTDOWN_OBSERVER_GROUP = 'task-service-shutdown';
