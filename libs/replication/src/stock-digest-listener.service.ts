import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { EVENT_TYPES, parseEvent, PoisonEventError, TOPICS } from '@stockmesh/contracts';
import { MessageBus, type BatchConsumer, type MessageBatch, type OutgoingMessage } from '@stockmesh/messaging';
import { Metrics } from '@stockmesh/metrics';
import { ShardDatabases } from '@stockmesh/persistence';
import { setTimeout as pause } from 'node:timers/promises';
import { Backoff } from './backoff.js';
import { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import { deadLetter } from './dead-letters/dead-letter.js';
import { EventAppliers } from './event-appliers.js';
import { LazyPublisher } from './lazy-publisher.js';
import { TopicsReady } from './topics-ready.service.js';

/** How long a digest waits for this region to apply the stock partition up to its point. */
const CATCH_UP_MS = 5_000;
const POLL_MS = 100;

/**
 * Hands the other regions' digests (`stockmesh.stock-digests.v1`, anti-entropy) to their applier
 * (the stock module compares them with the replicas), each once this region has applied the
 * stock topic's partition up to the digest's `toOffset`: before that, changes the owner counted
 * may not have arrived. A digest the replicator does not reach within 5 s is passed over (this
 * region is behind; the next one will do). Consumed in the group `stockmesh.digests.<region>`,
 * from the latest record: an old digest is worth nothing. Poison records are dead-lettered.
 */
@Injectable()
export class StockDigestListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StockDigestListener.name);
  private readonly abort = new AbortController();
  private readonly deadLetters: LazyPublisher;
  private consumer?: BatchConsumer;
  private running?: Promise<void>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly positions: ConsumerPositionsRepository,
    private readonly appliers: EventAppliers,
    private readonly bus: MessageBus,
    private readonly topics: TopicsReady,
    private readonly metrics: Metrics,
  ) {
    this.deadLetters = new LazyPublisher(bus);
  }

  onApplicationBootstrap(): void {
    if (this.config.replication.enabled) this.running = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => undefined);
    await this.consumer?.stop().catch(() => undefined);
    await this.deadLetters.close();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    await this.topics.ready(signal);
    const backoff = new Backoff(500, 5_000);
    while (!signal.aborted) {
      try {
        this.consumer = this.bus.consumer({
          groupId: `stockmesh.digests.${this.config.region.id}`,
          topics: [TOPICS.stockDigests],
          fromBeginning: false,
          maxWaitMs: this.config.kafka.maxWaitMs,
        });
        await this.consumer.start((batch) => this.handle(batch));
        return;
      } catch (error) {
        this.logger.warn({ msg: 'could not start the digest listener; retrying', err: (error as Error).message });
        await this.consumer?.stop().catch(() => undefined);
        await backoff.wait(signal);
      }
    }
  }

  /** Compares each digest of the batch; resolves once all are compared, passed over or dead-lettered. */
  async handle(batch: MessageBatch): Promise<undefined> {
    const poison: OutgoingMessage[] = [];
    for (const message of batch.messages) {
      try {
        const event = parseEvent(message, [EVENT_TYPES.stockDigest]);
        if (event.source === this.config.region.id) continue;
        const { shard, toOffset } = event.data;
        if (shard !== batch.partition || shard >= this.config.cluster.shardCount) {
          throw new PoisonEventError(`a digest of shard ${shard} arrived on partition ${batch.partition}`);
        }
        if (!(await this.caughtUp(shard, BigInt(toOffset)))) {
          this.logger.debug({ msg: 'passing over a digest: its point is not applied here yet', source: event.source, shard, toOffset });
          continue;
        }
        await this.databases.inShard(shard, (tx) => this.appliers.apply(tx, event));
      } catch (error) {
        if (!(error instanceof PoisonEventError)) throw error;
        this.logger.warn({ msg: 'dead-lettering a digest', partition: batch.partition, offset: message.offset, reason: error.reason });
        poison.push(deadLetter(message, error.reason, `stockmesh.digests.${this.config.region.id}`));
        this.metrics.deadLettered('digests', 'invalid_event');
      }
    }
    if (poison.length > 0) await this.deadLetters.publish(poison);
    return undefined;
  }

  /** Waits (a bounded time) until this region's position in the stock partition reaches `offset`. */
  private async caughtUp(shard: number, offset: bigint): Promise<boolean> {
    const db = this.databases.databaseFor(shard);
    for (let waited = 0; ; waited += POLL_MS) {
      const applied = (await this.databases.read(db, (tx) => this.positions.all(tx, TOPICS.stock))).get(shard) ?? 0n;
      if (applied >= offset) return true;
      if (waited >= CATCH_UP_MS || this.abort.signal.aborted) return false;
      await pause(POLL_MS, undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
  }
}
