import {createHash} from 'crypto';

/**
 * Business keys the service starts workflow instances with, one per start
 * it makes once, so a start whose recording was lost (a crash in between)
 * is found in the engine instead of made again. Camunda holds at most 255
 * characters; these stay under 64.
 */

/** The start of the workflow mapped under `workflowKey` by an incoming event. */
export function eventBusinessKey(eventId: string, workflowKey: string): string {
  const mapping = createHash('sha256')
    .update(workflowKey)
    .digest('hex')
    .slice(0, 16);
  return `event:${eventId}:${mapping}`;
}

/** The start of a task's workflow (its mapping by task key). */
export function taskBusinessKey(taskId: string): string {
  return `task:${taskId}`;
}
