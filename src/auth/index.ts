export * from './decorators';
export * from './jwt.strategy';
export * from './keys';
export * from './permission.authorizer';
export * from './permissions';
export * from './security-spec.enhancer';
export * from './system-user';
export * from './types';
