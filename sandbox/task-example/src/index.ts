import {createTaskLogger, TaskLogger} from 'loopback4-task-service';
import {TaskExampleApplication} from './application';
import {configFromEnv, DEV_CLIENT_SECRET_KEY, DEV_JWT_SECRET} from './config';

export {TaskExampleApplication};
export * from './config';

export async function main(): Promise<TaskExampleApplication> {
  const config = configFromEnv();
  const logger = createTaskLogger(config.logging);
  if (!config.jwtPublicKey && config.jwtSecret === DEV_JWT_SECRET) {
    logger.warn(
      'JWT_SECRET is not set: using the development secret. Set it outside development.',
    );
  }
  if (config.clientSecretKeys[0] === DEV_CLIENT_SECRET_KEY) {
    logger.warn(
      'CLIENT_SECRET_KEYS is not set: client secrets are encrypted with the development key. Set it outside development.',
    );
  }
  if (!config.metrics.token && config.metrics.port === undefined) {
    logger.warn(
      'GET /metrics is open to anyone who reaches the app: set METRICS_TOKEN or METRICS_PORT outside development.',
    );
  }
  const app = new TaskExampleApplication(config, {}, logger);
  await app.boot();
  await app.start();
  const url = app.restServer.url;
  logger.info(
    {
      url,
      explorer: `${url}/explorer`,
      openApi: `${url}/openapi.json`,
      incoming: config.incoming,
      outgoing: config.outgoing,
      camunda: config.camundaUrl,
    },
    'Task example is running',
  );
  stopOnSignals(app, logger, config.shutdownTimeoutMs);
  return app;
}

/**
 * SIGTERM or SIGINT: `app.stop()` drains the service (not ready, no new
 * requests, running commands and deliveries finished within the bound),
 * then the process exits 0. A stop that overruns the bound by far exits 1.
 */
function stopOnSignals(
  app: TaskExampleApplication,
  logger: TaskLogger,
  timeoutMs: number,
) {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({signal}, 'Stopping');
    setTimeout(() => {
      logger.error({timeoutMs}, 'The app did not stop in time; exiting');
      process.exit(1);
    }, timeoutMs + 10_000).unref();
    app.stop().then(
      () => {
        logger.info('Stopped');
        process.exit(0);
      },
      err => {
        logger.error({err}, 'Stopping failed');
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, stop);
  }
}

if (require.main === module) {
  main().catch(err => {
    createTaskLogger().fatal({err}, 'Cannot start the task example');
    process.exit(1);
  });
}
