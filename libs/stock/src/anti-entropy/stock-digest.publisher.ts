import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { ShardDatabases } from '@stockmesh/persistence';
import { OutboxRepository } from '@stockmesh/replication';
import { stockDigestEntry } from '../stock-events.js';
import { StockRepository } from '../stock.repository.js';

/**
 * Every `STOCKMESH_ANTI_ENTROPY_MS`, digests this region's rows of each shard (one aggregate over
 * one index per shard) and appends the digest to the outbox in the same transaction, so it
 * reaches the stock topic after every change it counts. Each process of a region does so; more
 * processes only mean more frequent checks.
 */
@Injectable()
export class StockDigestPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StockDigestPublisher.name);
  private readonly abort = new AbortController();
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly stock: StockRepository,
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.replication.enabled) this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    await this.round;
  }

  /** Appends a digest of every shard of this region to the outboxes. */
  async publishAll(): Promise<void> {
    for (let shard = 0; shard < this.config.cluster.shardCount && !this.abort.signal.aborted; shard++) {
      await this.databases.inShard(shard, async (tx) => {
        const buckets = await this.stock.digest(tx, shard);
        const computedAt = new Date(this.clock.now()).toISOString();
        await this.outbox.append(tx, [stockDigestEntry(this.config.region.id, shard, buckets, computedAt)]);
      });
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.round = this.publishAll()
        .catch((error: unknown) =>
          this.logger.warn({ msg: 'digest not published; trying at the next interval', err: (error as Error).message }),
        )
        .finally(() => {
          if (!this.abort.signal.aborted) this.schedule();
        });
    }, this.config.replication.antiEntropyMs);
    this.timer.unref();
  }
}
