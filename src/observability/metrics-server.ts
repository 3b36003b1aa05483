import {
  BindingScope,
  inject,
  injectable,
  LifeCycleObserver,
} from '@loopback/core';
import {createServer, IncomingMessage, Server, ServerResponse} from 'http';
import {AddressInfo} from 'net';
import {TaskObservabilityBindings} from './keys';
import {fallbackLogger, pathOf} from './logger';
import {TaskMetrics} from './metrics';
import {bearerMatches} from './metrics-auth';
import {TaskLogger, TaskObservabilityConfig} from './types';

/**
 * `GET /metrics` on a port of its own (`metrics.port`), apart from the REST
 * server and its routes: a port that only the monitoring network reaches.
 * The token, when configured, is asked for here too. Started with the app,
 * stopped last so the shutdown itself can be scraped.
 */
@injectable({scope: BindingScope.SINGLETON})
export class MetricsServer implements LifeCycleObserver {
  private server?: Server;

  constructor(
    @inject(TaskObservabilityBindings.METRICS)
    private readonly metrics: TaskMetrics,
    @inject(TaskObservabilityBindings.CONFIG, {optional: true})
    private readonly config: TaskObservabilityConfig = {},
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
  ) {}

  /** Where it listens, once started. */
  get url(): string | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) return undefined;
    const host =
      address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}/metrics`;
  }

  async start(): Promise<void> {
    const {port, host = '127.0.0.1'} = this.config.metrics ?? {};
    if (this.server !== undefined || port === undefined) return;
    const server = createServer((req, res) => {
      this.handle(req, res).catch(err => {
        this.logger.error({err}, 'Metrics: a scrape failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.logger.info(
      {url: this.url},
      'Metrics are served on a port of their own',
    );
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>(resolve => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'GET' || pathOf(req.url) !== '/metrics') {
      res.writeHead(404, {'content-type': 'text/plain'}).end('Not found');
      return;
    }
    const token = this.config.metrics?.token;
    if (token && !bearerMatches(req.headers.authorization, token)) {
      res
        .writeHead(401, {
          'content-type': 'text/plain',
          'www-authenticate': 'Bearer',
        })
        .end('Metrics token required');
      return;
    }
    const body = await this.metrics.text();
    res.writeHead(200, {'content-type': this.metrics.contentType}).end(body);
  }
}
