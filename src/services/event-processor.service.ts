import {BindingScope, inject, injectable, service} from '@loopback/core';
import {AnyObject, DataObject, repository} from '@loopback/repository';
import {EventFilter, IEvent, IEventProcessor} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {Event} from '../models';
import {TaskObservabilityBindings} from '../observability/keys';
import {addLogContext} from '../observability/log-context';
import {fallbackLogger} from '../observability/logger';
import type {TaskMetrics} from '../observability/metrics';
import type {TaskLogger} from '../observability/types';
import {EventRepository, EventWorkflowRepository} from '../repositories';
import {
  EventReceiptStore,
  IncomingEventRow,
  TaskSqlBindings,
  TransactionRunner,
} from '../sql';
import {eventBusinessKey} from './business-keys';
import {WorkflowService} from './workflow.service';

/** An incoming event as stored: its id, and whether this delivery stored it. */
export interface StoredEvent {
  id: string;
  /** false: an earlier delivery of the same source id stored it. */
  fresh: boolean;
}

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
    @inject(TaskSqlBindings.EVENT_RECEIPT_STORE)
    private readonly receipts: EventReceiptStore,
    @inject(TaskSqlBindings.TASK_TRANSACTIONS)
    private readonly transactions: TransactionRunner,
    @service(WorkflowService) private readonly workflows: WorkflowService,
    @inject(TaskServiceBindings.EVENT_FILTER, {optional: true})
    private readonly filter?: EventFilter,
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
    @inject(TaskObservabilityBindings.METRICS, {optional: true})
    private readonly metrics?: TaskMetrics,
  ) {}

  /**
   * An event with a source id (`event.id`) is handled once however often it
   * is delivered: it is stored once, and each mapped workflow is started
   * once: a redelivery after a failure starts only the rest, and finds by
   * its business key an instance whose start was not recorded (a crash
   * between the two).
   */
  async handle(event: IEvent): Promise<void> {
    const source = event.source ?? 'unknown';
    this.metrics?.eventsReceived.inc({source, key: event.key});
    try {
      await this.process(event);
    } catch (err) {
      this.metrics?.eventsFailed.inc({source});
      throw err;
    }
  }

  private async process(event: IEvent): Promise<void> {
    if (this.filter && !(await this.filter(event))) {
      this.logger.debug({eventKey: event.key}, 'Event dropped by the filter');
      return;
    }
    const payload: AnyObject = event.payload ?? {};
    const {stored, workflowKeys} = await this.storeAndMap(
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
    addLogContext({eventId: stored.id});
    if (!workflowKeys.length) {
      this.logger.debug(
        {eventKey: event.key, fresh: stored.fresh},
        'Event stored; no workflow is mapped to it',
      );
      return;
    }
    let started = 0;
    for (const workflowKey of workflowKeys) {
      const start = () =>
        this.workflows.startIfKnown(
          workflowKey,
          payload,
          `event ${event.key}`,
          {
            businessKey: eventBusinessKey(stored.id, workflowKey),
          },
        );
      const announce = (instanceId?: string) => {
        if (!instanceId) return;
        started++;
        this.logger.info(
          {eventKey: event.key, workflowKey, workflowInstanceId: instanceId},
          'Workflow started for the event',
        );
      };
      if (!event.id) {
        // Stored anew on every delivery: nothing else can start it, and no
        // redelivery reads what it started.
        announce((await start())?.id);
        continue;
      }
      await this.transactions.run(async options => {
        // Waits for a concurrent delivery starting the same workflow, then
        // yields to it; the claim commits with the instance it records.
        if (!(await this.receipts.claimStart(stored.id, workflowKey, options)))
          return;
        // A delivery before this one may have started it and failed before
        // recording it.
        const instance =
          (stored.fresh
            ? undefined
            : await this.workflows.findStarted(
                eventBusinessKey(stored.id, workflowKey),
              )) ?? (await start());
        await this.receipts.recordStart(
          stored.id,
          workflowKey,
          instance?.id,
          options,
        );
        announce(instance?.id);
      });
    }
    this.logger.info(
      {eventKey: event.key, fresh: stored.fresh, workflowsStarted: started},
      'Event handled',
    );
  }

  /**
   * Stores the event (once per source id) and reads the workflows mapped to
   * its key, in the order the mappings were made (a redelivery retries in
   * the same order): in one statement where the store has it, else in a
   * transaction and a read of the mappings.
   */
  private async storeAndMap(
    data: IncomingEventRow,
    sourceId?: string,
  ): Promise<{stored: StoredEvent; workflowKeys: string[]}> {
    if (this.receipts.storeAndMap) {
      const {id, workflowKeys} = await this.receipts.storeAndMap(
        data,
        sourceId,
      );
      if (id) return {stored: {id, fresh: true}, workflowKeys};
      return {stored: await this.storedBefore(sourceId!), workflowKeys};
    }
    const stored = await this.storeOnce(data, sourceId);
    const mappings = await this.mappings.find({
      where: {eventKey: data.key},
      order: ['createdOn ASC', 'id ASC'],
    });
    return {stored, workflowKeys: mappings.map(m => m.workflowKey)};
  }

  /**
   * Stores the event once per `sourceId`: a redelivery gets the id of the
   * event stored the first time, with `fresh: false`. Without a source id
   * every call stores a new event.
   */
  private async storeOnce(
    data: DataObject<Event>,
    sourceId?: string,
  ): Promise<StoredEvent> {
    if (!sourceId)
      return {id: (await this.events.create(data)).id!, fresh: true};
    const claimed = await this.transactions
      .run(async options => {
        const stored = await this.events.create(data, options);
        // Waits for a concurrent delivery of the same event, then yields to it.
        if (await this.receipts.claim(sourceId, stored.id!, options)) {
          return stored.id!;
        }
        throw new AlreadyStored();
      })
      .catch(err => {
        if (err instanceof AlreadyStored) return undefined;
        throw err;
      });
    if (claimed) return {id: claimed, fresh: true};
    return this.storedBefore(sourceId);
  }

  /** The event an earlier delivery of `sourceId` stored. */
  private async storedBefore(sourceId: string): Promise<StoredEvent> {
    const first = await this.receipts.eventIdOf(sourceId);
    if (!first) {
      throw new Error(
        `Event ${sourceId}: another delivery claimed it, yet no receipt is stored.`,
      );
    }
    return {id: first, fresh: false};
  }
}

/** Rolls back the copy of an event that an earlier delivery already stored. */
class AlreadyStored extends Error {}

function stringOr(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v !== '');
}
