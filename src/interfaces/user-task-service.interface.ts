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
  /**
   * Optional: marks completed, and announces, the task's user tasks that are
   * pending here but gone from the engine, in the transaction of `options`.
   * The end-task command calls it before `task-completed`; without it a
   * completion whose commit failed is announced after `task-completed`.
   */
  settleFinished?(
    taskId: string,
    instanceId: string,
    options: Options,
  ): Promise<number>;
}
