import {inject, Provider} from '@loopback/core';
import type {Kafka} from 'kafkajs';
import {TaskServiceKafkaModule} from './keys';
import {loadKafkajs} from './kafkajs-loader';
import {KafkaConfig} from './types';

/**
 * Makes the kafkajs client from `CONFIG.connection`. Bind it in singleton
 * scope to share one client (and its broker connections) across services.
 */
export class KafkaClientProvider implements Provider<Kafka> {
  constructor(
    @inject(TaskServiceKafkaModule.CONFIG)
    private readonly config: KafkaConfig,
  ) {}

  value(): Kafka {
    return createKafkaClient(this.config);
  }
}

export function createKafkaClient(config: KafkaConfig): Kafka {
  const {Kafka: KafkaClient} = loadKafkajs();
  return new KafkaClient(config.connection);
}
