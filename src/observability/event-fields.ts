import {AnyObject} from '@loopback/repository';
import {IEvent} from '../interfaces';
import {LogFields} from './types';

/**
 * The log fields of an outgoing event: its key and the task it is about
 * (`task-completed` names it, `user-task-completed` carries it,
 * `task-created` lists the created ones).
 */
export function outgoingEventFields(event: IEvent): LogFields {
  const payload: AnyObject = event.payload ?? {};
  const fields: LogFields = {eventKey: event.key};
  if (typeof payload.taskId === 'string') fields.taskId = payload.taskId;
  else if (typeof payload.task?.id === 'string')
    fields.taskId = payload.task.id;
  else if (Array.isArray(payload.createdTasks)) {
    fields.taskIds = payload.createdTasks
      .map((t: AnyObject) => t?.id)
      .filter((id: unknown) => typeof id === 'string');
  }
  return fields;
}
