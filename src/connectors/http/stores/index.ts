export * from './mysql/webhook-delivery.store';
export * from './postgresql/webhook-delivery.store';
export * from './providers';
export * from './webhook-delivery.store';
