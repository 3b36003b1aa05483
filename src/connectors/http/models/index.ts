export * from './client-app.model';
export * from './webhook-delivery-attempt.model';
export * from './webhook-delivery-key.model';
export * from './webhook-delivery.model';
export * from './webhook-subscription.model';
