export * from './client-app-auth.service';
export * from './http-stream.service';
export * from './url-guard';
export * from './webhook-delivery.worker';
export * from './webhook-signature';
