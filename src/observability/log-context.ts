import {AsyncLocalStorage} from 'async_hooks';
import {LogFields} from './types';

/**
 * What the work in progress is about (request id, event id, task id,
 * workflow instance, ...). Every line the default logger writes carries
 * the fields of the context it is written in, so one event's path can be
 * followed across the request, the event processor, the commands and the
 * deliveries without passing loggers around.
 */
const storage = new AsyncLocalStorage<LogFields>();

/** The fields of the current context (a copy; empty outside any). */
export function currentLogContext(): LogFields {
  const fields = storage.getStore();
  return fields ? {...fields} : {};
}

/** Runs `work` in a context that adds `fields` to the current one. */
export function withLogContext<T>(fields: LogFields, work: () => T): T {
  return storage.run({...storage.getStore(), ...defined(fields)}, work);
}

/**
 * Adds fields learnt along the way (the id an event was stored under, the
 * instance a workflow started as) to the current context; outside any
 * context it does nothing.
 */
export function addLogContext(fields: LogFields): void {
  const current = storage.getStore();
  if (current) Object.assign(current, defined(fields));
}

function defined(fields: LogFields): LogFields {
  const result: LogFields = {};
  // Runs a few times per request: no array of entries built for it.
  for (const key in fields) {
    if (!Object.prototype.hasOwnProperty.call(fields, key)) continue;
    const value = fields[key];
    if (value !== undefined && value !== null && value !== '') {
      result[key] = value;
    }
  }
  return result;
}
