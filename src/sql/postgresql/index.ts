export * from './command-run.store';
export * from './dialect';
export * from './event-receipt.store';
export * from './outbox.store';
export * from './task-start.store';
