export * from './lean-routes.middleware';
