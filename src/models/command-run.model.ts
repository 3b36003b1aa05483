import {Entity, model, property} from '@loopback/repository';
import {column, serviceTable} from './schema';

/**
 * An engine work item (Camunda: external task) whose command has committed
 * its work; a retry of the same item finds it and does not repeat the work.
 */
@model({
  name: 'command_runs',
  settings: {...serviceTable('command_runs'), strict: true},
})
export class CommandRun extends Entity {
  @property({
    type: 'string',
    id: true,
    required: true,
    ...column('external_task_id'),
  })
  externalTaskId: string;

  @property({type: 'string', required: true, ...column('topic')})
  topic: string;

  @property({type: 'date', ...column('created_on')})
  createdOn?: Date;

  constructor(data?: Partial<CommandRun>) {
    super(data);
  }
}
