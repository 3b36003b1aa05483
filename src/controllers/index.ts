export * from './event.controller';
export * from './task.controller';
export * from './user-task.controller';
export * from './workflow.controller';
export * from './params';
