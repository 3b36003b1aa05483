import {TaskExampleApplication} from './application';
import {configFromEnv, DEV_CLIENT_SECRET_KEY, DEV_JWT_SECRET} from './config';

export {TaskExampleApplication};
export * from './config';

export async function main(): Promise<TaskExampleApplication> {
  const config = configFromEnv();
  if (!config.jwtPublicKey && config.jwtSecret === DEV_JWT_SECRET) {
    console.warn(
      'JWT_SECRET is not set: using the development secret. Set it outside development.',
    );
  }
  if (config.clientSecretKeys[0] === DEV_CLIENT_SECRET_KEY) {
    console.warn(
      'CLIENT_SECRET_KEYS is not set: client secrets are encrypted with the development key. Set it outside development.',
    );
  }
  const app = new TaskExampleApplication(config);
  await app.boot();
  await app.start();
  const url = app.restServer.url;
  console.log(
    `Task example is running at ${url} (explorer: ${url}/explorer, API: ${url}/openapi.json)`,
  );
  console.log(
    `Connectors: incoming ${config.incoming}, outgoing ${config.outgoing}; Camunda at ${config.camundaUrl}`,
  );
  const stop = async (signal: string) => {
    console.log(`${signal}: stopping`);
    await app.stop();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stop(signal).catch(err => {
        console.error(`Stopping failed: ${(err as Error).message}`);
        process.exit(1);
      });
    });
  }
  return app;
}

if (require.main === module) {
  main().catch(err => {
    console.error(`Cannot start the task example: ${(err as Error).message}`);
    process.exit(1);
  });
}
