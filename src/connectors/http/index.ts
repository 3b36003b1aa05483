export * from './component';
export * from './controllers';
export * from './keys';
export * from './models';
export * from './repositories';
export * from './services';
export * from './stores';
export * from './types';
