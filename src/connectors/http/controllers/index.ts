export * from './client-app.controller';
export * from './event-trigger.controller';
export * from './webhook.controller';
