import { Kafka, logLevel, Partitioners, type Consumer, type LogEntry, type Message, type PartitionerArgs, type SASLOptions } from 'kafkajs';
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
  /** SASL credentials of this client's principal; none for a plaintext cluster without authentication. */
  readonly sasl?: KafkaSaslOptions;
}

/** A SASL principal, as kafkajs takes it (SCRAM-SHA-512 for stockmesh's own broker). */
export interface KafkaSaslOptions {
  readonly mechanism: 'scram-sha-512' | 'scram-sha-256' | 'plain';
  readonly username: string;
  readonly password: string;
}

/** kafkajs's form of the SASL options (its union type wants the mechanism narrowed). */
export function kafkajsSasl(sasl: KafkaSaslOptions | undefined): SASLOptions | undefined {
  if (!sasl) return undefined;
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
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
  /** Clients whose connection is tried only so many times (see `admin`), by that number. */
  private readonly boundedClients = new Map<number, Kafka>();
  private readonly prefix: string;

  constructor(private readonly options: KafkaJsBusOptions) {
    this.prefix = options.topicPrefix ?? '';
    this.kafka = this.client(10);
  }

  /** A kafkajs client; `retries` bounds the retries of its connections and requests. */
  private client(retries: number): Kafka {
    const options = this.options;
    const log = options.log;
    return new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      sasl: kafkajsSasl(options.sasl),
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      // Keep reconnecting while the broker is away (the outbox holds what is not published).
      retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...rest } = entry;
          const fields = { kafkajs: rest };
          // Said by every idempotent producer with bounded retries, which is deliberate (see publisher()).
          if (message.startsWith('Limiting retries for the idempotent producer')) return log.debug(fields, message);
          if (level === logLevel.ERROR) log.error(fields, message);
          else if (level === logLevel.WARN) log.warn(fields, message);
          else if (level === logLevel.INFO) log.info(fields, message);
          else log.debug(fields, message);
        },
    });
  }

  async publisher(): Promise<Publisher> {
    const prefix = this.prefix;
    // kafkajs answers with each partition's base offset only; the last offset needs the number of
    // the call's records in each partition, and for keyed records only the partitioner knows it.
    const placed = new WeakMap<Message, number>();
    // Idempotent: the broker drops a retried batch it already has, so retries cannot duplicate
    // or reorder records. Retries are bounded (the client's 10): callers that retry longer (the
    // outbox relay) make a new publisher after a failed call, so a new producer id starts clean
    // sequence numbers instead of reusing those of a batch that may have been written.
    const producer = this.kafka.producer({
      idempotent: true,
      metadataMaxAge: METADATA_MAX_AGE_MS,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: () => {
        const partitioner = Partitioners.DefaultPartitioner();
        return (args: PartitionerArgs): number => {
          const partition = partitioner(args);
          placed.set(args.message, partition);
          return partition;
        };
      },
    });
    await producer.connect();
    return {
      async publish(messages: readonly OutgoingMessage[]): Promise<PublishedPosition[]> {
        if (messages.length === 0) return [];
        const byTopic = new Map<string, Message[]>();
        for (const m of messages) {
          const topic = prefix + m.topic;
          const list = byTopic.get(topic) ?? [];
          list.push({ key: m.key, value: m.value, headers: m.headers ? { ...m.headers } : undefined, partition: m.partition });
          byTopic.set(topic, list);
        }
        const metadata = await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
        });
        const counts = new Map<string, number>();
        for (const [topic, list] of byTopic) {
          for (const message of list) {
            const tp = `${topic}\u0000${placed.get(message) ?? message.partition}`;
            counts.set(tp, (counts.get(tp) ?? 0) + 1);
          }
        }
        return metadata.map((md) => {
          // Each partition's records went out as one batch, so the last is base + count - 1.
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

  async admin(options: { readonly connectRetries?: number } = {}): Promise<TopicAdmin> {
    // kafkajs retries a connection with its client's settings (an admin's own only cover its
    // requests), so a bounded connection needs a client of its own.
    const retries = options.connectRetries;
    let kafka = this.kafka;
    if (retries !== undefined) {
      kafka = this.boundedClients.get(retries) ?? this.client(retries);
      this.boundedClients.set(retries, kafka);
    }
    const admin = kafka.admin();
    try {
      await admin.connect();
    } catch (error) {
      await admin.disconnect().catch(() => undefined);
      throw error;
    }
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
        // Right after a topic is created (or a leader moves), a broker can answer "not the leader"
        // until its metadata catches up; kafkajs' admin does not retry that for ListOffsets.
        for (let attempt = 1; ; attempt++) {
          try {
            const offsets = await admin.fetchTopicOffsets(prefix + topic);
            return offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })).sort((a, b) => a.partition - b.partition);
          } catch (error) {
            if (!(error as { retriable?: boolean }).retriable || attempt >= OFFSETS_ATTEMPTS) throw error;
            await pause(RETRY_PAUSE_MS);
          }
        }
      },
      async brokers(): Promise<number> {
        return (await admin.describeCluster()).brokers.length;
      },
      close: () => admin.disconnect(),
    };
  }
}

/**
 * How old the cluster metadata (who leads which partition) may get before a client asks again.
 * kafkajs refreshes it after "not the leader" answers, but a consumer whose fetch finds the
 * leader's node dead (connection refused) only drops the connection and fetches from the same
 * node again until the metadata expires: with kafkajs' default of 5 minutes, replication from the
 * partitions a killed Kafka node led stopped for minutes, although the other nodes had new leaders
 * within seconds. A metadata request every few seconds per client costs next to nothing.
 */
const METADATA_MAX_AGE_MS = 5_000;

/** kafkajs error types after which it rejoins the group by itself (through the current coordinator). */
const REJOIN_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

/** How often a retriable ListOffsets failure (a leader not yet known) is tried before it is reported. */
const OFFSETS_ATTEMPTS = 10;

/** Pause before a failed batch, or a failed load of stored positions, is tried again. */
const RETRY_PAUSE_MS = 500;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class KafkaJsBatchConsumer implements BatchConsumer {
  private consumer: Consumer;
  private stopped = false;
  /** A `restart` is under way. */
  private restarting = false;
  private handler?: BatchHandler;
  /** This member's partitions since the last rebalance, as given to `positionsFor`. */
  private assigned: readonly { topic: string; partition: number }[] = [];
  /**
   * Settles once the stored positions of the current assignment are loaded and sought to;
   * rejects when they could not be loaded. No batch reaches the handler before it settles.
   */
  private positionsSought: Promise<void> = Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: BatchConsumerOptions,
    private readonly log: BusLog,
    private readonly concurrency: number,
    private readonly prefix: string,
  ) {
    this.consumer = this.create();
  }

  private create(): Consumer {
    return this.kafka.consumer({
      groupId: this.prefix + this.options.groupId,
      metadataMaxAge: METADATA_MAX_AGE_MS,
      maxWaitTimeInMs: this.options.maxWaitMs ?? 50,
      minBytes: 1,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 20_000,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: Number.MAX_SAFE_INTEGER },
    });
  }

  /** Replaces the consumer with a fresh one once (see `revive`); safe to call from a batch handler. */
  private restart(): void {
    if (this.restarting || this.stopped) return;
    this.restarting = true;
    // Not awaited: disconnecting waits for the running batches, among them the caller's.
    void this.revive().finally(() => {
      this.restarting = false;
    });
  }

  /**
   * kafkajs restarts a consumer after a retriable crash only; after a non-retriable one (e.g.
   * "failed to find group coordinator" while the broker restarts) it stays down and nothing
   * would ever be consumed again. Such a crash gets a fresh consumer, until one runs.
   */
  private async revive(): Promise<void> {
    const crashed = this.consumer;
    await crashed.disconnect().catch(() => undefined);
    for (let attempt = 1; !this.stopped; attempt++) {
      await pause(Math.min(RETRY_PAUSE_MS * attempt, 10_000));
      if (this.stopped) return;
      this.consumer = this.create();
      try {
        await this.run(this.handler as BatchHandler);
        // stop() may have run while this consumer was joining: it disconnected the one before.
        if (this.stopped) await this.consumer.disconnect();
        else this.log.warn({ groupId: this.options.groupId, attempt }, 'consumer restarted after a crash');
        return;
      } catch (error) {
        this.log.error({ err: error, groupId: this.options.groupId, attempt }, 'restarting the consumer failed; trying again');
        await this.consumer.disconnect().catch(() => undefined);
      }
    }
  }

  async start(handler: BatchHandler): Promise<void> {
    this.handler = handler;
    await this.run(handler);
    // A stop() during the join disconnected a consumer that was still connecting.
    if (this.stopped) await this.consumer.disconnect();
  }

  private async run(handler: BatchHandler): Promise<void> {
    const { consumer, options, log } = this;
    const { positionsFor } = options;
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart || this.stopped || this.consumer !== consumer) return;
      log.error({ err: event.payload.error, groupId: options.groupId }, 'consumer crashed and kafkajs will not restart it; restarting it');
      void this.revive();
    });
    if (positionsFor) {
      // kafkajs emits this after every (re)join and before it fetches; the fetch does not wait for
      // the positions, the handler does (see eachBatch).
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        this.assigned = Object.entries(event.payload.memberAssignment).flatMap(([topic, partitions]) =>
          partitions.map((partition) => ({ topic: topic.slice(this.prefix.length), partition })),
        );
        this.seekToStoredPositions(positionsFor, 0);
      });
    }
    await consumer.connect();
    await consumer.subscribe({ topics: options.topics.map((t) => this.prefix + t), fromBeginning: options.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.concurrency,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const sought = this.positionsSought;
        try {
          await sought;
        } catch (error) {
          // Kafka's committed offset may be behind the stored position or ahead of it (records
          // would be skipped): nothing is handled until the stored positions are known.
          if (positionsFor && this.positionsSought === sought) {
            log.error({ err: error }, 'could not load consumer positions; trying again');
            this.seekToStoredPositions(positionsFor, RETRY_PAUSE_MS);
          }
          return;
        }
        // Fetched before the seek to a stored position: it is fetched again from there.
        if (isStale()) return;
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
          await pause(RETRY_PAUSE_MS);
          consumer.seek({ topic: batch.topic, partition: batch.partition, offset: batch.firstOffset() ?? messages[0].offset });
          return;
        }
        const last = messages[messages.length - 1].offset;
        const nextOffset = next?.offset ?? (BigInt(last) + 1n).toString();
        if (BigInt(nextOffset) === BigInt(last) + 1n) resolveOffset(last);
        else consumer.seek({ topic: batch.topic, partition: batch.partition, offset: nextOffset });
        const offsets = { topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: nextOffset }] }] };
        if (positionsFor) {
          // The handler's transaction stored where to resume, so Kafka's commit only mirrors it:
          // one attempt. consumer.commitOffsets retries with the consumer's (endless) retries,
          // against the coordinator kafkajs knew at the last join: when that Kafka node is killed,
          // the batch, and with it the partition, waited until the node was back, and then
          // "not the coordinator" forever, because kafkajs keeps the old coordinator while it is
          // connected. Replication stood still for minutes with one node of three down.
          try {
            await commitOffsetsIfNecessary(offsets);
            await heartbeat();
          } catch (error) {
            // Kafka answered "rebalance" or "not the coordinator": kafkajs rejoins through the
            // current coordinator, and the stored positions are sought again (GROUP_JOIN).
            if (REJOIN_ERRORS.has((error as { type?: string }).type ?? '')) throw error;
            // The coordinator is unreachable (its node is gone): a fresh consumer finds the new one.
            log.warn(
              { err: (error as Error).message, groupId: options.groupId, topic },
              'the group coordinator does not answer; restarting the consumer to find the current one',
            );
            this.restart();
          }
          return;
        }
        // consumer.commitOffsets retries, but once stop() has begun it returns without committing,
        // and the handled batch would be handled again after a restart: then commit directly.
        if (isRunning()) await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset }]);
        else await commitOffsetsIfNecessary(offsets);
        await heartbeat();
      },
    });
  }

  /** Loads the stored positions of the current assignment (after `delayMs`) and seeks there. */
  private seekToStoredPositions(positionsFor: NonNullable<BatchConsumerOptions['positionsFor']>, delayMs: number): void {
    const sought = (async (): Promise<void> => {
      if (delayMs > 0) await pause(delayMs);
      for (const position of await positionsFor(this.assigned)) this.seek(position);
    })();
    // eachBatch awaits it and handles a rejection; this only keeps Node from ending the process
    // over a rejection that no batch has looked at yet.
    sought.catch(() => undefined);
    this.positionsSought = sought;
  }

  seek(position: TopicPartitionOffset): void {
    this.consumer.seek({ topic: this.prefix + position.topic, partition: position.partition, offset: position.offset });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect();
  }
}
