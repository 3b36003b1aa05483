import {createHash} from 'crypto';
import type {IEvent} from '../interfaces';

/** The longest ordering key stored as it is (the key columns' width). */
export const MAX_ORDERING_KEY_LENGTH = 255;

/**
 * The keys an outgoing event is ordered by: the ids of the tasks it
 * concerns, in the order it names them, each once. `task-created` names
 * every created task (`createdTasks[].id`), `user-task-completed` its task
 * (`task.id`, or `userTask.taskId`), `task-completed` its `taskId`; any other
 * event is read the same way, so a custom event about a task keeps its
 * place among that task's events. An event that names no task has no key:
 * it is ordered with nothing.
 *
 * A key longer than the key columns hold is replaced by its SHA-256, so an
 * odd payload can never make the write of its event fail.
 */
export function orderingKeysOf(event: Pick<IEvent, 'payload'>): string[] {
  const payload: unknown = event.payload;
  if (!isObject(payload)) return [];
  const ids: unknown[] = [];
  if (Array.isArray(payload.createdTasks)) {
    for (const task of payload.createdTasks) {
      if (isObject(task)) ids.push(task.id);
    }
  }
  if (isObject(payload.task)) ids.push(payload.task.id);
  if (isObject(payload.userTask)) ids.push(payload.userTask.taskId);
  ids.push(payload.taskId);
  const keys: string[] = [];
  for (const id of ids) {
    const key = asKey(id);
    if (key !== undefined && !keys.includes(key)) keys.push(key);
  }
  return keys;
}

function asKey(id: unknown): string | undefined {
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  if (typeof id !== 'string' || !id) return undefined;
  if (id.length <= MAX_ORDERING_KEY_LENGTH) return id;
  return `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
