import {Entity, model, property} from '@loopback/repository';
import {pgTable} from './schema';

/**
 * An engine work item (Camunda: external task) whose command has committed
 * its work; a retry of the same item finds it and does not repeat the work.
 */
@model({
  name: 'command_runs',
  settings: {...pgTable('command_runs'), strict: true},
})
export class CommandRun extends Entity {
  @property({
    type: 'string',
    id: true,
    required: true,
    postgresql: {columnName: 'external_task_id'},
  })
  externalTaskId: string;

  @property({type: 'string', required: true, postgresql: {columnName: 'topic'}})
  topic: string;

  @property({type: 'date', postgresql: {columnName: 'created_on'}})
  createdOn?: Date;

  constructor(data?: Partial<CommandRun>) {
    super(data);
  }
}
