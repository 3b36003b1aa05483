export * from './incoming-events.observer';
