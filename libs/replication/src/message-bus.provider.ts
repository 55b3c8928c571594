import { Logger, type Provider } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { KafkaJsBus, MessageBus, type BusLog } from '@stockmesh/messaging';

/** Routes kafkajs's messages into the region's logger. */
function busLog(): BusLog {
  const logger = new Logger('kafka');
  return {
    error: (obj, msg) => logger.error({ msg, ...obj }),
    warn: (obj, msg) => logger.warn({ msg, ...obj }),
    info: (obj, msg) => logger.log({ msg, ...obj }),
    debug: (obj, msg) => logger.debug({ msg, ...obj }),
  };
}

/** The one place that chooses the Kafka client. */
export const messageBusProvider: Provider = {
  provide: MessageBus,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig): MessageBus =>
    new KafkaJsBus({
      brokers: config.kafka.brokers,
      clientId: config.kafka.clientId,
      topicPrefix: config.kafka.topicPrefix,
      sasl: config.kafka.sasl,
      log: busLog(),
    }),
};
