export * from './webhook-delivery-attempt.model';
export * from './webhook-delivery.model';
