/** The original's name for where and under which key the Kafka connector produces. */
export interface ProducerOptions {
  topic: string;
  key: string;
}
