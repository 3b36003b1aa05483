export * from './kafka-client.provider';
export * from './kafka-event.adapter';
export * from './kafka-stream.service';
export * from './keys';
export * from './types';
export * from '../../compat/kafka';
