import {BindingScope, inject, injectable, service} from '@loopback/core';
import {AnyObject, repository} from '@loopback/repository';
import {EventFilter, IEvent, IEventProcessor} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {EventRepository, EventWorkflowRepository} from '../repositories';
import {WorkflowRunner} from './workflow-runner.service';

/**
 * What an incoming event does: the filter may drop it; otherwise it is
 * stored and every workflow mapped to its key is started with its payload.
 */
@injectable({scope: BindingScope.TRANSIENT})
export class EventProcessorService implements IEventProcessor {
  constructor(
    @repository(EventRepository) private readonly events: EventRepository,
    @repository(EventWorkflowRepository)
    private readonly mappings: EventWorkflowRepository,
    @inject(TaskServiceBindings.EVENT_FILTER, {optional: true})
    private readonly filter: EventFilter | undefined,
    @service(WorkflowRunner)
    private readonly runner: WorkflowRunner,
  ) {}

  async handle(event: IEvent): Promise<void> {
    if (this.filter && !(await this.filter(event))) return;
    const payload: AnyObject = event.payload ?? {};
    await this.events.create({
      key: event.key,
      payload,
      timestamp: Number(event.timestamp ?? Date.now()),
      source: stringOr(payload.source, event.source),
      description:
        stringOr(payload.description, event.description) ??
        `Task for ${event.key}`,
    });
    const mappings = await this.mappings.find({where: {eventKey: event.key}});
    if (!mappings.length) {
      console.info(`Event ${event.key}: stored; no workflow is mapped to it.`);
      return;
    }
    for (const mapping of mappings) {
      await this.runner.startIfKnown(
        mapping.workflowKey,
        payload,
        `event ${event.key}`,
      );
    }
  }
}

function stringOr(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v !== '');
}
