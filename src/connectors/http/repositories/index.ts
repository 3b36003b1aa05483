export * from './client-app.repository';
export * from './webhook-delivery-attempt.repository';
export * from './webhook-delivery.repository';
export * from './webhook-subscription.repository';
