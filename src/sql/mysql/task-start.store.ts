import {Options} from '@loopback/repository';
import {SqlSession} from '../session';
import {TaskStart, TaskWorkflow} from '../../models';
import {rowsOf} from '../rows';
import {
  firstWorkflowOfEachKey,
  PendingTaskStart,
  TaskStartStore,
} from '../task-start.store';
import {MYSQL, mySqlPlaceholders, mySqlTuples} from './dialect';

const STARTS = MYSQL.tableOf(TaskStart);
const MAPPINGS = MYSQL.tableOf(TaskWorkflow);

/** Pending task-workflow starts on MySQL. */
export class MySqlTaskStartStore implements TaskStartStore {
  constructor(private readonly sql: SqlSession) {}

  async add(
    externalTaskId: string,
    starts: PendingTaskStart[],
    options: Options,
  ): Promise<void> {
    if (!starts.length) return;
    await this.sql.execute(
      `INSERT INTO ${STARTS} (external_task_id, task_index, task_id, workflow_key)
       VALUES ${mySqlTuples(starts, 4)}`,
      starts.flatMap(s => [
        externalTaskId,
        s.taskIndex,
        s.taskId,
        s.workflowKey ?? null,
      ]),
      options,
    );
  }

  async pendingOf(
    externalTaskId: string,
    options?: Options,
  ): Promise<PendingTaskStart[]> {
    const rows = rowsOf(
      await this.sql.execute(
        `SELECT task_index, task_id, workflow_key FROM ${STARTS}
          WHERE external_task_id = ?
          ORDER BY task_index
          ${options?.transaction ? 'FOR UPDATE' : ''}`,
        [externalTaskId],
        options,
      ),
    );
    return rows.map(r => ({
      taskIndex: Number(r.task_index),
      taskId: String(r.task_id),
      workflowKey: r.workflow_key === null ? undefined : String(r.workflow_key),
    }));
  }

  async clear(externalTaskId: string, options: Options): Promise<void> {
    await this.sql.execute(
      `DELETE FROM ${STARTS} WHERE external_task_id = ?`,
      [externalTaskId],
      options,
    );
  }

  async workflowsOf(
    taskKeys: string[],
    options?: Options,
  ): Promise<Map<string, string>> {
    const keys = [...new Set(taskKeys)];
    if (!keys.length) return new Map();
    const rows = rowsOf(
      await this.sql.execute(
        `SELECT task_key, workflow_key FROM ${MAPPINGS}
          WHERE task_key IN (${mySqlPlaceholders(keys)}) AND NOT deleted
          ORDER BY id`,
        keys,
        options,
      ),
    );
    return firstWorkflowOfEachKey(rows);
  }
}
