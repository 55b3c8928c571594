export { KafkaJsBus, kafkajsSasl, type BusLog, type KafkaJsBusOptions, type KafkaSaslOptions } from './kafkajs-bus.js';
export {
  MessageBus,
  type BatchConsumer,
  type BatchConsumerOptions,
  type BatchHandler,
  type IncomingMessage,
  type MessageBatch,
  type OutgoingMessage,
  type PublishedPosition,
  type Publisher,
  type TopicAdmin,
  type TopicPartitionOffset,
  type TopicSpec,
} from './message-bus.js';
