import {BindingKey, LifeCycleObserver} from '@loopback/core';

/** The component's own life-cycle observers, by key, so the graceful shutdown can stop them in order. */
export namespace TaskLifeCycleBindings {
  /** Subscribes the incoming connector to the event processor. */
  export const INCOMING_EVENTS = BindingKey.create<LifeCycleObserver>(
    'lifeCycleObservers.TaskIncomingEvents',
  );
  /** Hands the commands to the command runner. */
  export const COMMAND_WORKERS = BindingKey.create<LifeCycleObserver>(
    'lifeCycleObservers.TaskCommandWorkers',
  );
}
