/**
 * The project's own small interface to a Kafka-compatible log. Everything else in stockmesh talks
 * to Kafka only through it, so the client library (kafkajs today; it is no longer maintained)
 * can be replaced in one place by one with the same model, e.g. the KafkaJS-compatible layer of
 * `@confluentinc/kafka-javascript` or `@platformatic/kafka`.
 */

/** A record to publish. */
export interface OutgoingMessage {
  readonly topic: string;
  /** The record key; `null` for none. */
  readonly key: string | null;
  /** The record value; `null` is a tombstone on a compacted topic. */
  readonly value: string | Buffer | null;
  readonly headers?: Readonly<Record<string, string>>;
  /** An explicit partition; otherwise Kafka's default partitioner hashes the key (murmur2). */
  readonly partition?: number;
}

/** Where a published record landed. */
export interface PublishedPosition {
  readonly topic: string;
  readonly partition: number;
  /** Offset of the last record published to this partition by the call. */
  readonly lastOffset: string;
}

/** A record as consumed. */
export interface IncomingMessage {
  readonly topic: string;
  readonly partition: number;
  /** Offsets are decimal strings: they can exceed 2^53. */
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Broker timestamp, ms since the epoch. */
  readonly timestamp: number;
}

/** Consecutive records of one partition, in offset order. */
export interface MessageBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly IncomingMessage[];
  /** The partition's high watermark when the batch was fetched: the offset the next new record gets. */
  readonly highWatermark: string;
}

/** A position to resume from: the offset of the next record to read. */
export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor?: number;
  /** Topic configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  readonly config?: Readonly<Record<string, string>>;
}

export interface Publisher {
  /**
   * Publishes the messages with an idempotent producer (acks=all, in order per partition,
   * broker-side deduplication of retries). Resolves once every one is acknowledged.
   */
  publish(messages: readonly OutgoingMessage[]): Promise<PublishedPosition[]>;
  close(): Promise<void>;
}

export interface BatchConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a group with no committed offset starts. */
  readonly fromBeginning: boolean;
  /** Longest time the broker holds a fetch waiting for data; low values mean low latency. */
  readonly maxWaitMs?: number;
  /**
   * Called when partitions are assigned to this member, with the positions the consumer should
   * resume from (e.g. those stored in a database); the consumer seeks there. No batch reaches the
   * handler before it resolves; when it rejects, it is called again after a pause.
   */
  readonly positionsFor?: (assigned: readonly { topic: string; partition: number }[]) => Promise<readonly TopicPartitionOffset[]>;
}

/**
 * Handles one batch. Offsets are committed only after it resolves, and only as far as the
 * returned offset (the next one to read), so a batch is never skipped: if the handler throws,
 * the batch is fetched again. Returning `undefined` commits the whole batch.
 */
export type BatchHandler = (batch: MessageBatch) => Promise<TopicPartitionOffset | undefined>;

export interface BatchConsumer {
  /** Joins the group and hands every fetched batch to the handler, one partition batch at a time. */
  start(handler: BatchHandler): Promise<void>;
  /** Moves the read position of an assigned partition. */
  seek(position: TopicPartitionOffset): void;
  /** Leaves the group once the batch in hand is done, committing it if its handler resolved. */
  stop(): Promise<void>;
}

export interface TopicAdmin {
  /** Creates the topics that do not exist yet; existing topics are left as they are. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** Per partition: the first offset still in the log and the offset the next record gets. */
  offsets(topic: string): Promise<{ partition: number; low: string; high: string }[]>;
  /** Number of brokers that answer; throws when none does. */
  brokers(): Promise<number>;
  close(): Promise<void>;
}

/** Makes publishers, consumers and admins for one cluster. */
export abstract class MessageBus {
  abstract publisher(options?: { readonly clientId?: string }): Promise<Publisher>;
  abstract consumer(options: BatchConsumerOptions): BatchConsumer;
  /**
   * An admin client. `connectRetries` bounds the connection attempts (the client's default
   * otherwise): a caller with a retry loop of its own asks for 0, so that it can stop promptly.
   */
  abstract admin(options?: { readonly connectRetries?: number }): Promise<TopicAdmin>;
}
