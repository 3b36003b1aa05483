export * from './backoff';
export * from './ordering-keys';
export * from './call-batcher';
export * from './chunks';
