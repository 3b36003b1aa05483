export * from './webhook-delivery-attempt.repository';
export * from './webhook-delivery.repository';
