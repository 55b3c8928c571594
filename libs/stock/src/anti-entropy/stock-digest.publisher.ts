import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { TOPICS } from '@stockmesh/contracts';
import { MessageBus, type OutgoingMessage } from '@stockmesh/messaging';
import { LeaderLock, ShardDatabases } from '@stockmesh/persistence';
import { LazyPublisher, OutboxRepository, TopicsReady } from '@stockmesh/replication';
import { stockDigestMessage } from '../stock-events.js';
import { StockRepository } from '../stock.repository.js';
import { bucketOf } from './bucket-digest.js';

/**
 * Every `STOCKMESH_ANTI_ENTROPY_MS`, digests this region's rows of each shard (one aggregate over
 * one index per shard) and publishes the digests to `stockmesh.stock-digests.v1`, each with the
 * point of the stock topic's partition it describes, found without locking anything:
 *
 * 1. `fromOffset`: the partition's end offset, read first. Everything this region published
 *    below it had committed before step 2, so it is counted.
 * 2. The digest of the rows, then the outbox's unpublished changes of the shard. Their buckets
 *    are `unsettled`: counted, but not on the topic yet.
 * 3. `toOffset`: the end offset, read last. Every counted change that is not unsettled was
 *    published before it.
 *
 * A replica that has applied the partition up to `toOffset` then holds, in every bucket none of
 * whose rows it changed from `fromOffset` on, exactly what the owner counted.
 *
 * One instance of the region publishes (the holder of the job's LeaderLock), at the configured
 * interval: digests from every instance would each be correct, but would multiply the checks, and
 * the repairs they trigger, by the number of instances. A leader that dies hands over at the
 * next instance's interval.
 */
@Injectable()
export class StockDigestPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StockDigestPublisher.name);
  private readonly abort = new AbortController();
  private readonly publisher: LazyPublisher;
  private readonly leadership: LeaderLock;
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly stock: StockRepository,
    private readonly outbox: OutboxRepository,
    private readonly bus: MessageBus,
    private readonly topics: TopicsReady,
    private readonly clock: Clock,
  ) {
    this.publisher = new LazyPublisher(bus);
    this.leadership = databases.leaderLock('stock digests');
  }

  onApplicationBootstrap(): void {
    if (!this.config.replication.enabled) return;
    void this.topics.ready(this.abort.signal).then(() => {
      if (!this.abort.signal.aborted) this.schedule();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    await this.round;
    await this.publisher.close();
    await this.leadership.release();
  }

  /** Digests every shard of this region and publishes the digests. */
  async publishAll(): Promise<void> {
    const admin = await this.bus.admin();
    const messages: OutgoingMessage[] = [];
    try {
      const from = new Map((await admin.offsets(TOPICS.stock)).map((p) => [p.partition, p.high]));
      const digests = [];
      for (let shard = 0; shard < this.config.cluster.shardCount && !this.abort.signal.aborted; shard++) {
        const db = this.databases.databaseFor(shard);
        // The rows first, then the outbox: a change committed in between is not counted, and is
        // either unsettled or published after `fromOffset`, where replicas see it as moved.
        const buckets = await this.databases.read(db, (tx) => this.stock.digest(tx, shard));
        const pending = await this.databases.read(db, (tx) => this.outbox.pendingKeys(tx, TOPICS.stock, shard));
        // Outbox keys are the state topic's `warehouseId/sku` (neither part contains a `/`).
        const unsettled = [...new Set(pending.map((key) => bucketOf(key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1))))];
        unsettled.sort((a, b) => a - b);
        digests.push({ shard, buckets, unsettled, computedAt: new Date(this.clock.now()).toISOString() });
      }
      const to = new Map((await admin.offsets(TOPICS.stock)).map((p) => [p.partition, p.high]));
      for (const d of digests) {
        const point = { fromOffset: from.get(d.shard) ?? '0', toOffset: to.get(d.shard) ?? '0' };
        messages.push(stockDigestMessage(this.config.region.id, d.shard, point, d.buckets, d.unsettled, d.computedAt));
      }
    } finally {
      await admin.close();
    }
    if (messages.length > 0 && !this.abort.signal.aborted) await this.publisher.publish(messages);
  }

  private async publishIfLeader(): Promise<void> {
    if (await this.leadership.lead()) await this.publishAll();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.round = this.publishIfLeader()
        .catch((error: unknown) =>
          this.logger.warn({ msg: 'digests not published; trying at the next interval', err: (error as Error).message }),
        )
        .finally(() => {
          if (!this.abort.signal.aborted) this.schedule();
        });
    }, this.config.replication.antiEntropyMs);
    this.timer.unref();
  }
}
