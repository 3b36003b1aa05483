export * from './lean-routes.middleware';
export * from './trie-router';
