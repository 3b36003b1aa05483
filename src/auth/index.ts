export * from './decorators';
export * from './jwt.strategy';
export * from './permission.authorizer';
export * from './permissions';
export * from './security-spec.enhancer';
