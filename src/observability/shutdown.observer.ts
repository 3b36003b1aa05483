import {
  Application,
  BindingScope,
  CoreBindings,
  CoreTags,
  filterByTag,
  inject,
  injectable,
  LifeCycleObserver,
  Server,
  service,
} from '@loopback/core';
import {RestServer} from '@loopback/rest';
import {TaskLifeCycleBindings} from '../lifecycle-observers/keys';
import {OutboxRelay} from '../services/outbox-relay.service';
import {TaskObservabilityBindings, TaskObservabilityTags} from './keys';
import {fallbackLogger} from './logger';
import {ServiceState} from './service-state';
import {TaskLogger, TaskObservabilityConfig} from './types';

const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * Stops the service in order when the app stops, within one bound:
 * `/ready` turns 503 (and stays so for `drainDelayMs`), the servers stop
 * taking requests and finish the ones in flight, the incoming connector
 * stops (a Kafka consumer finishes and commits the messages it holds), the
 * command runner stops after the commands that run, the background workers
 * (webhook delivery) after their POSTs in flight, then the outbox relay.
 * LoopBack then stops the rest (the Kafka producer, the datasources), whose
 * stops find nothing left to do here. Its life-cycle group starts last, so
 * it is the first to stop.
 */
@injectable({scope: BindingScope.SINGLETON})
export class GracefulShutdownObserver implements LifeCycleObserver {
  constructor(
    @inject(CoreBindings.APPLICATION_INSTANCE)
    private readonly app: Application,
    @inject(TaskObservabilityBindings.SERVICE_STATE)
    private readonly state: ServiceState,
    @service(OutboxRelay) private readonly relay: OutboxRelay,
    @inject(TaskObservabilityBindings.CONFIG, {optional: true})
    private readonly config: TaskObservabilityConfig = {},
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
  ) {}

  start(): void {
    this.state.markStarted();
  }

  async stop(): Promise<void> {
    const {drainDelayMs = 0, timeoutMs = DEFAULT_TIMEOUT_MS} =
      this.config.shutdown ?? {};
    const deadline = Date.now() + timeoutMs;
    const started = Date.now();
    this.state.markDraining();
    this.logger.info({timeoutMs}, 'Shutting down: not ready any more');
    if (drainDelayMs > 0) {
      await new Promise(resolve => setTimeout(resolve, drainDelayMs));
    }
    // Requests that still arrive on open keep-alive connections are refused
    // (503, Connection: close) while the servers wait for those in flight.
    this.state.markRefusing();
    await this.step(
      'servers',
      deadline,
      () => this.stopServers(),
      () => this.closeConnections(),
    );
    await this.step('incoming events', deadline, () =>
      this.stopBinding(TaskLifeCycleBindings.INCOMING_EVENTS.key),
    );
    await this.step('commands', deadline, () =>
      this.stopBinding(TaskLifeCycleBindings.COMMAND_WORKERS.key),
    );
    await this.step('background workers', deadline, () =>
      this.stopTagged(TaskObservabilityTags.BACKGROUND_WORKER),
    );
    await this.step('outbox relay', deadline, () => this.relay.stop());
    this.logger.info(
      {durationMs: Date.now() - started},
      'Shutdown drained the service',
    );
  }

  /** Runs one step within what is left of the bound; a step that overruns is logged and left. */
  private async step(
    name: string,
    deadline: number,
    work: () => Promise<void>,
    onTimeout?: () => void,
  ): Promise<void> {
    const left = Math.max(deadline - Date.now(), 0);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>(resolve => {
      timer = setTimeout(() => resolve('timeout'), left);
    });
    try {
      const outcome = await Promise.race([
        work().then(() => 'done' as const),
        timedOut,
      ]);
      if (outcome === 'timeout') {
        this.logger.warn(
          {step: name},
          'Shutdown: a step did not finish within the bound; going on',
        );
        onTimeout?.();
      }
    } catch (err) {
      this.logger.error({err, step: name}, 'Shutdown: a step failed; going on');
    } finally {
      clearTimeout(timer);
    }
  }

  private async stopServers(): Promise<void> {
    const servers = await this.servers();
    await Promise.all(servers.map(async server => server.stop?.()));
  }

  /** Past the bound: drop the connections of requests that still run. */
  private closeConnections(): void {
    this.servers()
      .then(servers => {
        for (const server of servers) {
          if (server instanceof RestServer) {
            server.httpServer?.server.closeAllConnections();
          }
        }
      })
      .catch(err =>
        this.logger.error({err}, 'Shutdown: could not close connections'),
      );
  }

  private servers(): Promise<Server[]> {
    return Promise.all(
      this.app
        .find(filterByTag(CoreTags.SERVER))
        .map(binding => this.app.get<Server>(binding.key)),
    );
  }

  private async stopBinding(key: string): Promise<void> {
    const observer = await this.app.get<LifeCycleObserver>(key, {
      optional: true,
    });
    if (observer?.stop) await observer.stop();
  }

  private async stopTagged(tag: string): Promise<void> {
    await Promise.all(
      this.app.find(filterByTag(tag)).map(b => this.stopBinding(b.key)),
    );
  }
}
