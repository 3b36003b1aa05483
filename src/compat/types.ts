import {AnyObject} from '@loopback/repository';
import {IEvent} from '../interfaces';

// Names of the original's `types.ts` that have no other home here.

/** The original's authentication datasource names; nothing here uses them. */
export const AuthDbSourceName = 'AuthDB';
export const AuthCacheSourceName = 'AuthCache';

export interface Message {
  message: string;
  key: string;
  payload?: AnyObject;
  eventKey: string;
  taskKey: string;
}

/** The original's spelling; nothing here calls such a function. */
export type ProccessorFunction = (
  task: AnyObject,
  taskService: AnyObject,
  payload: AnyObject,
) => {
  payload: AnyObject;
  vars: AnyObject | null;
};

/** The original's system user; `TaskServiceBindings.SYSTEM_USER` takes a `TaskUser`, which adds the id the audit columns need. */
export interface User {
  username: string;
  userTenantId: string;
}

/** The original's name of an incoming connector's handler (`EventHandler`). */
export type IEventStreamHandler<T = IEvent> = (event: T) => Promise<void>;
