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

  /**
   * An event with a source id (`event.id`) is handled once however often it
   * is delivered: it is stored once, and each mapped workflow it started is
   * recorded, so a redelivery after a failure starts only the rest.
   */
  async handle(event: IEvent): Promise<void> {
    if (this.filter && !(await this.filter(event))) return;
    const payload: AnyObject = event.payload ?? {};
    const stored = await this.events.storeOnce(
      {
        key: event.key,
        payload,
        timestamp: Number(event.timestamp ?? Date.now()),
        source: stringOr(payload.source, event.source),
        description:
          stringOr(payload.description, event.description) ??
          `Task for ${event.key}`,
      },
      event.id,
    );
    // In the order they were made, so a redelivery retries in the same order.
    const mappings = await this.mappings.find({
      where: {eventKey: event.key},
      order: ['createdOn ASC', 'id ASC'],
    });
    if (!mappings.length) {
      console.info(`Event ${event.key}: stored; no workflow is mapped to it.`);
      return;
    }
    for (const {workflowKey} of mappings) {
      if (
        !stored.fresh &&
        (await this.events.hasStarted(stored.id, workflowKey))
      ) {
        continue;
      }
      const instance = await this.runner.startIfKnown(
        workflowKey,
        payload,
        `event ${event.key}`,
      );
      await this.events.recordStart(stored.id, workflowKey, instance?.id);
    }
  }
}

function stringOr(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v !== '');
}
