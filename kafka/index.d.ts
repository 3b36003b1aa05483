export * from '../dist/connectors/kafka';
