import {Entity, model, property} from '@loopback/repository';
import {column, serviceTable} from './schema';

/**
 * A mapped workflow that a stored event has started (or skipped, unknown to
 * the engine): a redelivery of the event starts only the others.
 */
@model({
  name: 'event_workflow_runs',
  settings: {...serviceTable('event_workflow_runs'), strict: true},
})
export class EventWorkflowRun extends Entity {
  @property({
    type: 'string',
    id: 1,
    required: true,
    ...column('event_id', 'uuid'),
  })
  eventId: string;

  /** The mapping's workflow key. */
  @property({
    type: 'string',
    id: 2,
    required: true,
    ...column('workflow_key'),
  })
  workflowKey: string;

  /** The started instance; none when the workflow was unknown and skipped. */
  @property({type: 'string', ...column('instance_id')})
  instanceId?: string;

  @property({type: 'date', ...column('created_on')})
  createdOn?: Date;

  constructor(data?: Partial<EventWorkflowRun>) {
    super(data);
  }
}
