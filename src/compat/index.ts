// Names of `@sourceloop/task-service` 2.0.0 (and of the parts of
// `@sourceloop/bpmn-service` its users imported) that have no other home
// here, so its users switch by changing imports. See the README's
// "Migrating from @sourceloop/task-service".
export * from './bpmn';
export * from './bpmn.provider';
export * from './http-client.service';
export * from './models';
export * from './system-user.provider';
export * from './types';
export * from './utility.service';
export * from './workflow-manager.adapter';
