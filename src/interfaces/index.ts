export * from './command-runner.interface';
export * from './command.interface';
export * from './connector.interface';
export * from './event.interface';
export * from './user-task-service.interface';
export * from './workflow-manager.interface';
