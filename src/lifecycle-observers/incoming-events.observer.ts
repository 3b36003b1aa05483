import {
  Context,
  CoreBindings,
  inject,
  lifeCycleObserver,
  LifeCycleObserver,
} from '@loopback/core';
import {asSystemUser} from '../auth/system-user';
import {IEvent, IIncomingConnector} from '../interfaces';
import {TaskServiceBindings} from '../keys';
import {withLogContext} from '../observability/log-context';

/**
 * Connects the incoming connector to the event processor on start, and
 * disconnects it on stop. Each event is handled in a context of its own,
 * as the system user.
 */
@lifeCycleObserver('task-service')
export class IncomingEventsObserver implements LifeCycleObserver {
  private connector?: IIncomingConnector;

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
    await this.connector.subscribe(event => this.handle(event));
  }

  async stop(): Promise<void> {
    await this.connector?.unsubscribe();
    this.connector = undefined;
  }

  /** In a log context of its own: every line of its path names the event. */
  private handle(event: IEvent): Promise<void> {
    return withLogContext({eventKey: event.key, sourceEventId: event.id}, () =>
      this.process(event),
    );
  }

  private async process(event: IEvent): Promise<void> {
    const ctx = await asSystemUser(this.app, 'incoming-event');
    try {
      const processor = await ctx.get(TaskServiceBindings.EVENT_PROCESSOR);
      await processor.handle(event);
    } finally {
      ctx.close();
    }
  }
}
