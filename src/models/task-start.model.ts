import {Entity, model, property} from '@loopback/repository';
import {pgTable} from './schema';

/**
 * A task that a `create-tasks` work item created and committed, whose
 * mapped workflow is still to start and whose `task-created` is still to
 * announce. The row goes once both are done; a retry of the work item
 * (after a crash) finishes what is left. Written and read through
 * `TaskStartStore`.
 */
@model({
  name: 'task_starts',
  settings: {...pgTable('task_starts'), strict: true},
})
export class TaskStart extends Entity {
  /** The engine work item (Camunda: external task) that created the task. */
  @property({
    type: 'string',
    id: 1,
    required: true,
    postgresql: {columnName: 'external_task_id'},
  })
  externalTaskId: string;

  /** The task's place among the work item's `tasks.values`. */
  @property({
    type: 'number',
    id: 2,
    required: true,
    postgresql: {columnName: 'task_index', dataType: 'integer'},
  })
  taskIndex: number;

  @property({
    type: 'string',
    required: true,
    postgresql: {columnName: 'task_id', dataType: 'uuid'},
  })
  taskId: string;

  /** The workflow mapped to the task's key; none when there is no mapping. */
  @property({type: 'string', postgresql: {columnName: 'workflow_key'}})
  workflowKey?: string;

  @property({type: 'date', postgresql: {columnName: 'created_on'}})
  createdOn?: Date;

  constructor(data?: Partial<TaskStart>) {
    super(data);
  }
}
