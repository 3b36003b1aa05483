import {Entity, model, property} from '@loopback/repository';
import {pgTable} from './schema';

/**
 * A mapped workflow that a stored event has started (or skipped, unknown to
 * the engine): a redelivery of the event starts only the others.
 */
@model({
  name: 'event_workflow_runs',
  settings: {...pgTable('event_workflow_runs'), strict: true},
})
export class EventWorkflowRun extends Entity {
  @property({
    type: 'string',
    id: 1,
    required: true,
    postgresql: {columnName: 'event_id', dataType: 'uuid'},
  })
  eventId: string;

  /** The mapping's workflow key. */
  @property({
    type: 'string',
    id: 2,
    required: true,
    postgresql: {columnName: 'workflow_key'},
  })
  workflowKey: string;

  /** The started instance; none when the workflow was unknown and skipped. */
  @property({type: 'string', postgresql: {columnName: 'instance_id'}})
  instanceId?: string;

  @property({type: 'date', postgresql: {columnName: 'created_on'}})
  createdOn?: Date;

  constructor(data?: Partial<EventWorkflowRun>) {
    super(data);
  }
}
