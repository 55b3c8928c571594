import { Kafka, logLevel, Partitioners, type Consumer, type LogEntry, type Message } from 'kafkajs';
import type {
  BatchConsumer,
  BatchConsumerOptions,
  BatchHandler,
  IncomingMessage,
  MessageBus,
  OutgoingMessage,
  PublishedPosition,
  Publisher,
  TopicAdmin,
  TopicPartitionOffset,
  TopicSpec,
} from './message-bus.js';

/** Where the bus writes what kafkajs has to say (a pino logger fits). */
export interface BusLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface KafkaJsBusOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly log: BusLog;
  /** How many partitions one consumer works on at once. */
  readonly consumerConcurrency?: number;
  /**
   * Prepended to every topic and consumer group name on the wire and stripped from what is
   * consumed, so several clusters (or test runs) can share one Kafka cluster while the rest of
   * the code only knows the logical names.
   */
  readonly topicPrefix?: string;
}

const toHeaders = (headers: Message['headers'] | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
};

/** The kafkajs implementation of `MessageBus`: the only file that imports kafkajs. */
export class KafkaJsBus implements MessageBus {
  private readonly kafka: Kafka;
  private readonly prefix: string;

  constructor(private readonly options: KafkaJsBusOptions) {
    this.prefix = options.topicPrefix ?? '';
    const log = options.log;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      // Keep reconnecting while the broker is away (the outbox holds what is not published).
      retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 10 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...rest } = entry;
          const fields = { kafkajs: rest };
          if (level === logLevel.ERROR) log.error(fields, message);
          else if (level === logLevel.WARN) log.warn(fields, message);
          else if (level === logLevel.INFO) log.info(fields, message);
          else log.debug(fields, message);
        },
    });
  }

  async publisher(): Promise<Publisher> {
    const prefix = this.prefix;
    // Idempotent: the broker drops a retried batch it already has, so retries cannot duplicate
    // or reorder records (kafkajs then keeps its own unlimited retry count).
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    return {
      async publish(messages: readonly OutgoingMessage[]): Promise<PublishedPosition[]> {
        if (messages.length === 0) return [];
        const byTopic = new Map<string, Message[]>();
        const counts = new Map<string, number>();
        for (const m of messages) {
          const topic = prefix + m.topic;
          const list = byTopic.get(topic) ?? [];
          list.push({ key: m.key, value: m.value, headers: m.headers ? { ...m.headers } : undefined, partition: m.partition });
          byTopic.set(topic, list);
          const tp = `${topic}\u0000${m.partition ?? -1}`;
          counts.set(tp, (counts.get(tp) ?? 0) + 1);
        }
        const metadata = await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
        });
        return metadata.map((md) => {
          // With explicit partitions the last offset is exact; otherwise it is the batch's first.
          const count = counts.get(`${md.topicName}\u0000${md.partition}`) ?? 1;
          return {
            topic: md.topicName.slice(prefix.length),
            partition: md.partition,
            lastOffset: (BigInt(md.baseOffset ?? '0') + BigInt(count - 1)).toString(),
          };
        });
      },
      close: () => producer.disconnect(),
    };
  }

  consumer(options: BatchConsumerOptions): BatchConsumer {
    return new KafkaJsBatchConsumer(this.kafka, options, this.options.log, this.options.consumerConcurrency ?? 4, this.prefix);
  }

  async admin(): Promise<TopicAdmin> {
    const admin = this.kafka.admin();
    await admin.connect();
    const log = this.options.log;
    const prefix = this.prefix;
    return {
      async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
        const existing = new Set(await admin.listTopics());
        const missing = specs.filter((s) => !existing.has(prefix + s.topic));
        if (missing.length > 0) {
          // Regions starting together race to create the same topics; losing the race is fine,
          // and the metadata check below says whether the topics exist as specified.
          await admin
            .createTopics({
              waitForLeaders: true,
              topics: missing.map((s) => ({
                topic: prefix + s.topic,
                numPartitions: s.partitions,
                replicationFactor: s.replicationFactor ?? 1,
                configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
              })),
            })
            .catch((error: unknown) => log.warn({ err: (error as Error).message }, 'creating topics failed; checking what exists'));
        }
        // A topic made elsewhere with too few partitions would break "shard k is partition k".
        const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((s) => prefix + s.topic) });
        const absent = specs.filter((spec) => !topics.some((t) => t.name === prefix + spec.topic));
        if (absent.length > 0) throw new Error(`topics ${absent.map((a) => a.topic).join(', ')} do not exist`);
        for (const spec of specs) {
          const found = topics.find((t) => t.name === prefix + spec.topic);
          if (found && found.partitions.length !== spec.partitions) {
            log.error(
              { topic: spec.topic, expected: spec.partitions, actual: found.partitions.length },
              'topic has the wrong partition count',
            );
            throw new Error(`topic ${spec.topic} has ${found.partitions.length} partitions, expected ${spec.partitions}`);
          }
        }
      },
      async offsets(topic: string): Promise<{ partition: number; low: string; high: string }[]> {
        const offsets = await admin.fetchTopicOffsets(prefix + topic);
        return offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })).sort((a, b) => a.partition - b.partition);
      },
      async brokers(): Promise<number> {
        return (await admin.describeCluster()).brokers.length;
      },
      close: () => admin.disconnect(),
    };
  }
}

class KafkaJsBatchConsumer implements BatchConsumer {
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly options: BatchConsumerOptions,
    private readonly log: BusLog,
    private readonly concurrency: number,
    private readonly prefix: string,
  ) {
    this.consumer = kafka.consumer({
      groupId: prefix + options.groupId,
      maxWaitTimeInMs: options.maxWaitMs ?? 50,
      minBytes: 1,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 20_000,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: Number.MAX_SAFE_INTEGER },
    });
  }

  async start(handler: BatchHandler): Promise<void> {
    const { consumer, options, log } = this;
    if (options.positionsFor) {
      const positionsFor = options.positionsFor;
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const assigned = Object.entries(event.payload.memberAssignment).flatMap(([topic, partitions]) =>
          partitions.map((partition) => ({ topic: topic.slice(this.prefix.length), partition })),
        );
        positionsFor(assigned)
          .then((positions) => positions.forEach((p) => this.seek(p)))
          .catch((error: unknown) => log.error({ err: error }, 'could not load consumer positions; stopping the consumer'));
      });
    }
    await consumer.connect();
    await consumer.subscribe({ topics: options.topics.map((t) => this.prefix + t), fromBeginning: options.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.concurrency,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const topic = batch.topic.slice(this.prefix.length);
        const messages: IncomingMessage[] = batch.messages.map((m) => ({
          topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key ? m.key.toString() : null,
          value: m.value,
          headers: toHeaders(m.headers),
          timestamp: Number(m.timestamp),
        }));
        let next: TopicPartitionOffset | undefined;
        try {
          next = await handler({ topic, partition: batch.partition, messages, highWatermark: batch.highWatermark });
        } catch (error) {
          // The batch is read again after a pause: nothing is skipped, nothing is committed.
          log.warn({ err: error, topic, partition: batch.partition }, 'batch failed; retrying it');
          await new Promise((resolve) => setTimeout(resolve, 500));
          consumer.seek({ topic: batch.topic, partition: batch.partition, offset: batch.firstOffset() ?? messages[0].offset });
          return;
        }
        const last = messages[messages.length - 1].offset;
        const nextOffset = next?.offset ?? (BigInt(last) + 1n).toString();
        if (BigInt(nextOffset) === BigInt(last) + 1n) resolveOffset(last);
        else consumer.seek({ topic: batch.topic, partition: batch.partition, offset: nextOffset });
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset }]);
        await heartbeat();
      },
    });
  }

  seek(position: TopicPartitionOffset): void {
    this.consumer.seek({ topic: this.prefix + position.topic, partition: position.partition, offset: position.offset });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
