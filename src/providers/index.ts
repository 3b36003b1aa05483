export * from './workflow-manager.provider';
