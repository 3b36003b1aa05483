import {
  Context,
  CoreBindings,
  inject,
  lifeCycleObserver,
  LifeCycleObserver,
} from '@loopback/core';
import {asSystemUser} from '../auth/system-user';
import {
  EventRemainder,
  IEvent,
  IEventProcessor,
  IIncomingConnector,
} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {withLogContext} from '../observability/log-context';
import {EventProcessorService} from '../services/event-processor.service';

/**
 * Connects the incoming connector to the event processor on start, and
 * disconnects it on stop. Events are handled as the system user: by one
 * instance of the service's own processor, or by a processor the host
 * bound resolved for each event in a context of its own. Events that
 * arrive together are stored together.
 */
@lifeCycleObserver('task-service')
export class IncomingEventsObserver implements LifeCycleObserver {
  private connector?: IIncomingConnector;
  private processor?: Promise<IEventProcessor>;
  private processorContext?: Context;
  /** Whether the processor is the service's own, decided at start. */
  private ownProcessor = false;

  constructor(
    @inject(CoreBindings.APPLICATION_INSTANCE) private readonly app: Context,
  ) {}

  async start(): Promise<void> {
    this.connector = await this.app.get(
      TaskServiceBindings.INCOMING_CONNECTOR,
      {
        optional: true,
      },
    );
    if (!this.connector) return;
    this.ownProcessor = this.isDefaultProcessor();
    await this.connector.subscribe(
      event => this.handle(event),
      events => this.handleBatch(events),
    );
  }

  async stop(): Promise<void> {
    await this.connector?.unsubscribe();
    this.connector = undefined;
    this.processorContext?.close();
    this.processorContext = undefined;
    this.processor = undefined;
  }

  /** In a log context of its own: every line of its path names the event. */
  private handle(event: IEvent): Promise<void> {
    return withLogContext({eventKey: event.key, sourceEventId: event.id}, () =>
      this.process(event),
    );
  }

  /**
   * Events that arrived together: the service's own processor stores them
   * in one go and leaves the rest of each (its workflow starts) to run in
   * that event's log context; a processor the host bound handles each
   * event whole, as `handle` does.
   */
  private async handleBatch(
    events: IEvent[],
  ): Promise<(EventRemainder | undefined)[]> {
    const processor = this.ownProcessor
      ? await this.sharedProcessor()
      : undefined;
    if (!processor?.handleBatch) {
      return events.map(event => () => this.handle(event));
    }
    const remainders = await processor.handleBatch(events);
    return remainders.map((remainder, i) => {
      if (!remainder) return undefined;
      const {key, id} = events[i];
      return () =>
        withLogContext({eventKey: key, sourceEventId: id}, remainder);
    });
  }

  private async process(event: IEvent): Promise<void> {
    if (this.ownProcessor) {
      await (await this.sharedProcessor()).handle(event);
      return;
    }
    const ctx = await asSystemUser(this.app, 'incoming-event');
    try {
      const processor = await ctx.get(TaskServiceBindings.EVENT_PROCESSOR);
      await processor.handle(event);
    } finally {
      ctx.close();
    }
  }

  /**
   * The service's own processor keeps nothing of an event between calls,
   * so one instance, made in a system-user context of its own, handles
   * every event: resolving it with its repositories for each event cost
   * more CPU than storing the event. A processor the host bound is
   * resolved for each event, as before. Bindings are final once the app
   * starts, so this is asked once, at start.
   */
  private isDefaultProcessor(): boolean {
    const binding = this.app.getBinding(TaskServiceBindings.EVENT_PROCESSOR, {
      optional: true,
    });
    return binding?.valueConstructor === EventProcessorService;
  }

  private sharedProcessor(): Promise<IEventProcessor> {
    this.processor ??= asSystemUser(this.app, 'incoming-events').then(ctx => {
      this.processorContext = ctx;
      return ctx.get(TaskServiceBindings.EVENT_PROCESSOR);
    });
    return this.processor;
  }
}
