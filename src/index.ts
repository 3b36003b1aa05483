export * from './auth';
export * from './commands';
export * from './component';
export * from './controllers';
export * from './engines/camunda';
export * from './interfaces';
export * from './keys';
export * from './lifecycle-observers';
export * from './models';
export * from './repositories';
export * from './security';
export * from './services';
export * from './types';

// Names the original package exported, for a switch by changing imports.
export {UserTaskController as TaskUserTaskController} from './controllers';
export type {CommandParameters as CamundaTaskParameters} from './interfaces';
export {TaskWorkflowRepository as TaskWorkFlowRepository} from './repositories';
