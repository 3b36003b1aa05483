export * from '../dist/connectors/http';
