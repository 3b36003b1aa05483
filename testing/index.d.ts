export * from '../dist/testing';
