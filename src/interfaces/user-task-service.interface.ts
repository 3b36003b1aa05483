import {Options} from '@loopback/repository';
import {UserTask} from '../models';

export interface IUserTaskService {
  /** Completes the engine's user task and records what became pending. */
  complete(taskId: string, userTaskId: string): Promise<UserTask>;
  /** Records the instance's pending user tasks that are not recorded yet. */
  updateList(
    taskId: string,
    instanceId: string,
    options?: Options,
  ): Promise<UserTask[]>;
}
