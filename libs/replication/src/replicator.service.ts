import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { parseEvent, PoisonEventError, TOPICS } from '@stockmesh/contracts';
import { MessageBus, type BatchConsumer, type MessageBatch, type OutgoingMessage, type TopicPartitionOffset } from '@stockmesh/messaging';
import { ShardDatabases } from '@stockmesh/persistence';
import { Backoff } from './backoff.js';
import { LazyPublisher } from './lazy-publisher.js';
import { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import { deadLetter } from './dead-letters.js';
import { EventAppliers } from './event-appliers.js';
import { ReplicaGaps } from './replica-gaps.js';
import { ReplicaRebuilder } from './replica-rebuilder.service.js';
import { replicatedTopics, type ReplicatedTopic } from './replicated-topics.js';
import { TopicsReady } from './topics-ready.service.js';

/**
 * Applies the other regions' events to this region's replicas. Each batch (one partition) is
 * applied in one transaction on the database hosting that partition's shard, together with the
 * partition's next offset, so a crash at any point neither loses nor double-applies an event:
 * after a restart the consumer resumes at the stored position, and records before it are
 * skipped. Kafka's committed offsets only speed up the restart; the database is the truth.
 *
 * A record that is not a valid event, or sits on a partition its SKU does not belong to, goes to
 * the dead-letter topic (before the position moves past it) and the partition keeps moving. Any
 * other failure (e.g. a database error) rolls the batch back and it is applied again later. The
 * region's own events are skipped.
 */
@Injectable()
export class Replicator implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(Replicator.name);
  private readonly abort = new AbortController();
  private readonly topics: ReplicatedTopic[];
  private consumer?: BatchConsumer;
  private readonly deadLetters: LazyPublisher;
  private running?: Promise<void>;
  /** Partitions read from their stored position since they were assigned to this instance. */
  private readonly positioned = new Set<string>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly positions: ConsumerPositionsRepository,
    private readonly appliers: EventAppliers,
    private readonly bus: MessageBus,
    private readonly rebuilder: ReplicaRebuilder,
    private readonly topicsReady: TopicsReady,
    private readonly gaps: ReplicaGaps,
  ) {
    this.topics = replicatedTopics(config);
    this.deadLetters = new LazyPublisher(bus);
  }

  onApplicationBootstrap(): void {
    if (!this.config.replication.enabled) return;
    this.running = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => undefined);
    await this.consumer?.stop().catch(() => undefined);
    await this.deadLetters.close();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    await this.topicsReady.ready(signal);
    const backoff = new Backoff(500, 5_000);
    while (!signal.aborted) {
      try {
        await this.rebuilder.rebuildMissing(signal);
        if (signal.aborted) return;
        this.consumer = this.bus.consumer({
          groupId: `stockmesh.replica.${this.config.region.id}`,
          topics: this.topics.map((t) => t.topic),
          fromBeginning: true,
          maxWaitMs: this.config.kafka.maxWaitMs,
          positionsFor: (assigned) => this.storedPositions(assigned),
        });
        await this.consumer.start((batch) => this.apply(batch));
        this.logger.log('applying the other regions’ events');
        return;
      } catch (error) {
        this.logger.warn({ msg: 'could not start replication; retrying', err: (error as Error).message });
        await this.consumer?.stop().catch(() => undefined);
        await backoff.wait(signal);
      }
    }
  }

  /** Where each assigned partition resumes: the position stored with the applied rows. */
  private async storedPositions(assigned: readonly { topic: string; partition: number }[]): Promise<TopicPartitionOffset[]> {
    const result: TopicPartitionOffset[] = [];
    const firstKept = assigned.some((a) => a.topic === TOPICS.stock) ? await this.firstOffsetsKept() : new Map<number, bigint>();
    for (const { topic, partition } of assigned) {
      this.positioned.delete(`${topic}/${partition}`);
      const route = this.route(topic);
      const db = route.database(partition);
      const stored = await this.databases.read(db, (tx) => this.positions.all(tx, topic));
      let offset = stored.get(partition);
      const low = firstKept.get(partition);
      if (topic === TOPICS.stock && offset !== undefined && low !== undefined && offset < low) {
        // Retention removed records this region never applied, and no record may come after them
        // for a long time: the shard is repaired from the state topic now, and the position moves
        // to the first record kept (what lies below it can only come from the state topic).
        const repairing = this.gaps.report({ topic, partition, expected: offset, got: low });
        this.logger.error({
          msg: repairing
            ? 'events are missing from the live topic (retention); repairing the shard from the state topic'
            : 'events are missing from the live topic (retention); rebuild this region’s replicas',
          topic,
          partition,
          expected: offset.toString(),
          got: low.toString(),
        });
        if (repairing) {
          await this.databases.inDatabase(db, (tx) => this.positions.save(tx, topic, partition, low));
          offset = low;
        }
      }
      // No position: read from the start of what Kafka keeps (the catalog is compacted, so that
      // is every warehouse; stock partitions get a position from the rebuild first).
      result.push({ topic, partition, offset: (offset ?? 0n).toString() });
    }
    return result;
  }

  /** The first offset Kafka still has, per partition of the stock topic. */
  private async firstOffsetsKept(): Promise<Map<number, bigint>> {
    const admin = await this.bus.admin();
    try {
      return new Map((await admin.offsets(TOPICS.stock)).map((p) => [p.partition, BigInt(p.low)]));
    } finally {
      await admin.close();
    }
  }

  /** Applies one partition batch; returns the offset to continue from. */
  async apply(batch: MessageBatch): Promise<TopicPartitionOffset> {
    const route = this.route(batch.topic);
    const { topic, partition } = batch;
    return this.databases.inDatabase(route.database(partition), async (tx) => {
      const stored = await this.positions.lock(tx, topic, partition);
      const expected = stored ?? BigInt(batch.messages[0].offset);
      const fresh = batch.messages.filter((m) => BigInt(m.offset) >= expected);
      if (fresh.length === 0) return { topic, partition, offset: expected.toString() };
      const partitionKey = `${topic}/${partition}`;
      if (BigInt(fresh[0].offset) > expected) {
        if (!this.positioned.has(partitionKey)) {
          // The first batch after an assignment may come from Kafka's committed offset, ahead of
          // the stored position: read from the stored position first.
          this.positioned.add(partitionKey);
          this.logger.warn({
            msg: 'batch starts past the stored position; seeking back to it',
            topic,
            partition,
            expected: expected.toString(),
            got: fresh[0].offset,
          });
          return { topic, partition, offset: expected.toString() };
        }
        // Reading from the stored position, the log itself has no records in between: normal on a
        // compacted topic, but on the live stock topic it means retention removed events this
        // region never applied. Their rows are repaired from the compacted state topic, which
        // holds every row's latest state (ReplicaGaps hands the gap to the stock module's
        // repair); the batch is applied meanwhile, and the repair never moves a row backwards.
        // On the transfers topic it means units in transit were lost: they stay pending at the source.
        if (topic === TOPICS.stock) {
          const gap = { topic, partition, expected, got: BigInt(fresh[0].offset) };
          const repairing = this.gaps.report(gap);
          this.logger.error({
            msg: repairing
              ? 'events are missing from the live topic (retention); repairing the shard from the state topic'
              : 'events are missing from the live topic (retention); rebuild this region’s replicas',
            topic,
            partition,
            expected: expected.toString(),
            got: fresh[0].offset,
          });
        } else if (topic === TOPICS.transfers) {
          this.logger.error({
            msg: 'transfer events are missing (retention); their units stay pending at the source',
            topic,
            partition,
            expected: expected.toString(),
            got: fresh[0].offset,
          });
        }
      }
      this.positioned.add(partitionKey);
      const poison: OutgoingMessage[] = [];
      for (const message of fresh) {
        try {
          const event = parseEvent(message, route.types);
          if (event.source === this.config.region.id) continue;
          route.check?.(event, partition);
          await this.appliers.apply(tx, event, BigInt(message.offset));
        } catch (error) {
          if (!(error instanceof PoisonEventError)) throw error;
          this.logger.warn({ msg: 'dead-lettering a record', topic, partition, offset: message.offset, reason: error.reason });
          poison.push(deadLetter(message, error.reason, `stockmesh.replica.${this.config.region.id}`));
        }
      }
      // Published before the position commits: a crash in between dead-letters it twice, never not at all.
      if (poison.length > 0) await this.deadLetters.publish(poison);
      const next = BigInt(fresh[fresh.length - 1].offset) + 1n;
      await this.positions.save(tx, topic, partition, next);
      return { topic, partition, offset: next.toString() };
    });
  }

  private route(topic: string): ReplicatedTopic {
    const route = this.topics.find((t) => t.topic === topic);
    if (!route) throw new Error(`topic ${topic} is not replicated here`);
    return route;
  }
}
