export * from './backoff';
export * from './ordering-keys';
