export * from './event.controller';
export * from './http-errors';
export * from './outbox.controller';
export * from './params';
export * from './task.controller';
export * from './user-task.controller';
export * from './workflow.controller';
