import {Options} from '@loopback/repository';

/** A task whose workflow is still to start, and whose creation is still to announce. */
export interface PendingTaskStart {
  /** Its place among the work item's tasks. */
  taskIndex: number;
  taskId: string;
  /** The workflow mapped to its key; none when there is no mapping. */
  workflowKey?: string;
}

/**
 * The tasks of `create-tasks` work items that are committed but whose
 * workflows have not started yet (`task_starts`): the workflows start only
 * after the tasks commit, so their first commands find them; a retry of a
 * work item whose run stopped in between (a crash) finishes the rest.
 */
export interface TaskStartStore {
  /** Records the work item's tasks, in the transaction of `options`. */
  add(
    externalTaskId: string,
    starts: PendingTaskStart[],
    options: Options,
  ): Promise<void>;
  /**
   * The work item's tasks still to start, in their order. Inside a
   * transaction they stay locked until it ends: another run of the same
   * work item waits there, then finds what this one left.
   */
  pendingOf(
    externalTaskId: string,
    options?: Options,
  ): Promise<PendingTaskStart[]>;
  /** Forgets the work item's tasks: started and announced, or undone. */
  clear(externalTaskId: string, options: Options): Promise<void>;
  /**
   * The workflow mapped to each of the task keys (`task_workflows`, not
   * deleted; of several, the first by id), in one statement: keys with no
   * mapping are not in the map.
   */
  workflowsOf(
    taskKeys: string[],
    options?: Options,
  ): Promise<Map<string, string>>;
}

/** The first workflow of each task key among `rows` (ordered by id). */
export function firstWorkflowOfEachKey(
  rows: Record<string, unknown>[],
): Map<string, string> {
  const byKey = new Map<string, string>();
  for (const row of rows) {
    const key = String(row.task_key);
    if (!byKey.has(key)) byKey.set(key, String(row.workflow_key));
  }
  return byKey;
}
