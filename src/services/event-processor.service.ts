import {BindingScope, inject, injectable, service} from '@loopback/core';
import {AnyObject, DataObject, repository} from '@loopback/repository';
import {
  EventFilter,
  EventRemainder,
  IEvent,
  IEventProcessor,
} from '../interfaces';
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

  /**
   * Handles the events of a batch together as far as they go together:
   * the filter, then every kept event stored (once per source id) and the
   * workflows mapped to its key read, in one statement. Returns, in their
   * order, what is left of each: starting its mapped workflows, as `handle`
   * would (undefined: dropped or nothing mapped). Without a store that
   * takes many events at once, all of each is left.
   */
  async handleBatch(events: IEvent[]): Promise<(EventRemainder | undefined)[]> {
    if (!this.receipts.storeAndMapAll) {
      return events.map(event => () => this.handle(event));
    }
    const filter = this.filter;
    const kept = filter
      ? await Promise.all(events.map(async event => !!(await filter(event))))
      : events.map(() => true);
    events.forEach((event, i) => {
      if (!kept[i]) {
        this.logger.debug({eventKey: event.key}, 'Event dropped by the filter');
      }
    });
    const toStore = events.filter((_, i) => kept[i]);
    const results = toStore.length
      ? await this.receipts.storeAndMapAll(
          toStore.map(event => ({event: rowOf(event), sourceId: event.id})),
        )
      : [];
    this.countReceived(events);
    this.logger.debug(
      {events: events.length, stored: results.filter(r => r.id).length},
      'Events stored together',
    );
    let next = 0;
    return events.map((event, i) => {
      if (!kept[i]) return undefined;
      const {id, workflowKeys} = results[next++];
      if (!workflowKeys.length) return undefined;
      let tried = false;
      return async () => {
        try {
          // A retry may follow a start that failed after the engine made
          // the instance: it looks for it first, as a redelivery does.
          const stored: StoredEvent =
            id !== undefined
              ? {id, fresh: !tried}
              : await this.storedBefore(event.id!);
          tried = true;
          await this.startMapped(event, stored, workflowKeys);
        } catch (err) {
          this.metrics?.eventsFailed.inc({source: event.source ?? 'unknown'});
          throw err;
        }
      };
    });
  }

  /** One increment per source and key of a batch (a batch is mostly one key). */
  private countReceived(events: IEvent[]): void {
    if (!this.metrics) return;
    const counts = new Map<string, {source: string; key: string; n: number}>();
    for (const {source = 'unknown', key} of events) {
      const label = JSON.stringify([source, key]);
      const count = counts.get(label);
      if (count) count.n++;
      else counts.set(label, {source, key, n: 1});
    }
    for (const {source, key, n} of counts.values()) {
      this.metrics.eventsReceived.inc({source, key}, n);
    }
  }

  private async process(event: IEvent): Promise<void> {
    if (this.filter && !(await this.filter(event))) {
      this.logger.debug({eventKey: event.key}, 'Event dropped by the filter');
      return;
    }
    const {stored, workflowKeys} = await this.storeAndMap(
      rowOf(event),
      event.id,
    );
    if (!workflowKeys.length) {
      addLogContext({eventId: stored.id});
      this.logger.debug(
        {eventKey: event.key, fresh: stored.fresh},
        'Event stored; no workflow is mapped to it',
      );
      return;
    }
    await this.startMapped(event, stored, workflowKeys);
  }

  /**
   * Starts each workflow mapped to the stored event's key, once per event
   * when it has a source id.
   */
  private async startMapped(
    event: IEvent,
    stored: StoredEvent,
    workflowKeys: string[],
  ): Promise<void> {
    addLogContext({eventId: stored.id});
    const payload: AnyObject = event.payload ?? {};
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

/** The event as it is stored. */
function rowOf(event: IEvent): IncomingEventRow {
  const payload: AnyObject = event.payload ?? {};
  return {
    key: event.key,
    payload,
    timestamp: Number(event.timestamp ?? Date.now()),
    source: stringOr(payload.source, event.source),
    description:
      stringOr(payload.description, event.description) ??
      `Task for ${event.key}`,
  };
}

function stringOr(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v !== '');
}
