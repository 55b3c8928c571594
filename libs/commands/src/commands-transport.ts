import { Transport, type KafkaOptions } from '@nestjs/microservices';
import type { AppConfig } from '@stockmesh/config';
import { kafkajsSasl } from '@stockmesh/messaging';
import { commandsGroupOf } from './command-processor.service.js';

/** kafkajs's `logLevel.WARN`: its info lines (joins, rebalances) would drown the region's log. */
const KAFKAJS_WARN = 2;

/**
 * The options of the command consumer, Nest's Kafka transport (`ServerKafka`, on kafkajs):
 * the region's own consumer group, named like the others (with the topic prefix, and without
 * Nest's `-server` suffix), fetches that wait at most `KAFKA_MAX_WAIT_MS`, and record values
 * kept as bytes so that a bad one is dead-lettered as it came. `closing` says when the app is
 * shutting down: a consumer that crashes then is not restarted.
 */
export function commandsTransport(config: AppConfig, closing: () => boolean = () => false): KafkaOptions {
  return {
    transport: Transport.KAFKA,
    options: {
      postfixId: '',
      client: {
        clientId: `${config.kafka.clientId}-commands`,
        brokers: [...config.kafka.brokers],
        // The region's own principal, like its other Kafka clients (none on a plaintext cluster).
        sasl: kafkajsSasl(config.kafka.sasl),
        connectionTimeout: 3_000,
        requestTimeout: 10_000,
        retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 10 },
        logLevel: KAFKAJS_WARN,
      },
      consumer: {
        groupId: config.kafka.topicPrefix + commandsGroupOf(config.region.id),
        maxWaitTimeInMs: config.kafka.maxWaitMs,
        minBytes: 1,
        // A reservation commit calls the owners of its holds; kafkajs heartbeats between records.
        sessionTimeout: 30_000,
        heartbeatInterval: 1_000,
        rebalanceTimeout: 60_000,
        allowAutoTopicCreation: false,
        // A record whose handling fails (a database or the broker away) is read again, for ever:
        // commands of that partition wait rather than being skipped.
        // kafkajs restarts a crashed consumer; not once the app is closing (a connection closed
        // under it while it was still joining would otherwise revive it after close()).
        retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: Number.MAX_SAFE_INTEGER, restartOnFailure: async () => !closing() },
      },
      // A new group reads what was sent before it first joined: nothing is missed, and what ran
      // before is answered from the stored command ids.
      subscribe: { fromBeginning: true },
      run: { partitionsConsumedConcurrently: 4 },
      parser: { keepBinary: true },
      // Nest's reply producer, which sends nothing: commands are events, answered on the results
      // topic through the project's own publisher. Its partitioner is never called (and naming
      // one keeps kafkajs from warning about its v2 default).
      producer: {
        allowAutoTopicCreation: false,
        createPartitioner: () => () => {
          throw new Error('the command consumer replies to nothing');
        },
      },
    },
  };
}
