export * from './audited-crud.repository';
export * from './event-workflow.repository';
export * from './event.repository';
export * from './task-workflow.repository';
export * from './task.repository';
export * from './user-task.repository';
export * from './workflow-version.repository';
export * from './workflow.repository';
