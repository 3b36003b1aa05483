export * from './camunda-variables';
export * from './camunda.service';
export * from './command-worker';
export * from './history-time-to-live';
export * from './process-variables';
