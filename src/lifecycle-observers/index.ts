export * from './command-workers.observer';
export * from './incoming-events.observer';
export * from './keys';
