import {Context} from '@loopback/core';
import {SecurityBindings, securityId} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {TaskUser} from '../types';

/**
 * A child context of `parent` in which the system user is the current user:
 * background work (an incoming event, a command) writes its audit columns as
 * that user. The caller closes it.
 */
export async function asSystemUser(
  parent: Context,
  name: string,
): Promise<Context> {
  const ctx = new Context(parent, name);
  const user: TaskUser = await parent.get(TaskServiceBindings.SYSTEM_USER);
  ctx.bind(SecurityBindings.USER).to({[securityId]: user.id, ...user});
  return ctx;
}
