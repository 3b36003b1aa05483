/**
 * kafkajs is an optional peer dependency: users of the HTTP connector do
 * not install it. Every runtime use goes through here, so the error says
 * what to do instead of "Cannot find module".
 */
export function loadKafkajs(): typeof import('kafkajs') {
  try {
    return require('kafkajs') as typeof import('kafkajs');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'MODULE_NOT_FOUND') throw err;
    throw new Error(
      'The Kafka connector of loopback4-task-service needs the kafkajs package: run `npm install kafkajs@^2.2.4`.',
      {cause: err},
    );
  }
}
