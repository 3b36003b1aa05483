import {Provider} from '@loopback/core';
import {DEFAULT_SYSTEM_USER, TaskUser} from '../types';

/**
 * The system user as the original made it: `system`, in the tenant named
 * by `SYSTEM_USER_TENANT_ID`. The component binds `DEFAULT_SYSTEM_USER`
 * itself; bind this at `TaskServiceBindings.SYSTEM_USER` for the tenant.
 */
export class SystemUserProvider implements Provider<TaskUser> {
  value(): TaskUser {
    return {
      ...DEFAULT_SYSTEM_USER,
      userTenantId: process.env.SYSTEM_USER_TENANT_ID,
    };
  }
}
