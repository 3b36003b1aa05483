import {Options} from '@loopback/repository';
import {SqlSession} from '../session';
import {TaskStart, TaskWorkflow} from '../../models';
import {rowsOf} from '../rows';
import {
  firstWorkflowOfEachKey,
  PendingTaskStart,
  TaskStartStore,
} from '../task-start.store';
import {POSTGRESQL} from './dialect';

const STARTS = POSTGRESQL.tableOf(TaskStart);
const MAPPINGS = POSTGRESQL.tableOf(TaskWorkflow);

/** Pending task-workflow starts on PostgreSQL. */
export class PostgresTaskStartStore implements TaskStartStore {
  constructor(private readonly sql: SqlSession) {}

  async add(
    externalTaskId: string,
    starts: PendingTaskStart[],
    options: Options,
  ): Promise<void> {
    if (!starts.length) return;
    await this.sql.execute(
      `INSERT INTO ${STARTS} (external_task_id, task_index, task_id, workflow_key)
       SELECT $1, s.task_index, s.task_id, s.workflow_key
         FROM unnest($2::integer[], $3::uuid[], $4::varchar[])
              AS s(task_index, task_id, workflow_key)`,
      [
        externalTaskId,
        starts.map(s => s.taskIndex),
        starts.map(s => s.taskId),
        starts.map(s => s.workflowKey ?? null),
      ],
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
          WHERE external_task_id = $1
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
      `DELETE FROM ${STARTS} WHERE external_task_id = $1`,
      [externalTaskId],
      options,
    );
  }

  async workflowsOf(
    taskKeys: string[],
    options?: Options,
  ): Promise<Map<string, string>> {
    if (!taskKeys.length) return new Map();
    const rows = rowsOf(
      await this.sql.execute(
        `SELECT task_key, workflow_key FROM ${MAPPINGS}
          WHERE task_key = ANY($1::varchar[]) AND NOT deleted
          ORDER BY id`,
        [[...new Set(taskKeys)]],
        options,
      ),
    );
    return firstWorkflowOfEachKey(rows);
  }
}
