export * from './create-task.command';
export * from './end-task.command';
