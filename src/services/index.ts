export * from './event-outbox.service';
export * from './event-processor.service';
export * from './task-maintenance.service';
export * from './user-task.service';
export * from './workflow-runner.service';
export * from './command-ledger.service';
export * from './input-validator.service';
export * from './user-task-sync.service';
