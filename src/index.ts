export * from './auth';
export * from './commands';
export * from './compat';
export * from './component';
export * from './controllers';
export * from './engines/camunda';
export * from './errors';
export * from './interfaces';
export * from './keys';
export * from './models';
export * from './observability';
export * from './repositories';
export * from './rest';
export * from './security';
export * from './services';
export * from './sql';
export * from './types';
export {orderingKeysOf} from './utils';

// Names the original package exported, for a switch by changing imports.
export {UserTaskController as TaskUserTaskController} from './controllers';
export {TaskWorkflowRepository as TaskWorkFlowRepository} from './repositories';
// The HTTP connector's models and repositories, where the original had them.
export {ClientApp, WebhookSubscription} from './connectors/http/models';
export {
  ClientAppRepository,
  WebhookSubscriptionRepository,
} from './connectors/http/repositories';
