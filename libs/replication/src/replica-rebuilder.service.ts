import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { EVENT_TYPES, parseEvent, PoisonEventError, TOPICS } from '@stockmesh/contracts';
import { MessageBus, type MessageBatch } from '@stockmesh/messaging';
import { ShardDatabases } from '@stockmesh/persistence';
import { randomUUID } from 'node:crypto';
import { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import { EventAppliers, type OffsetEvent } from './event-appliers.js';
import { fromStartOfTargets, stateRecordCheck } from './stock-state-reader.js';

/**
 * Rebuilds the stock replicas of a region whose databases hold no consumer position for some
 * shards (a new region, or one restored or wiped): it reads the compacted state topic, which
 * holds the latest state of every row, and then has the live topic followed from where it
 * stood before the read began.
 *
 * No gap: the live topic's end offsets L are taken first. Every event before L was written to
 * the state topic before it was written to the live topic (see OutboxRelay), so it is in the
 * state topic when that is read afterwards. Events from L on are read from the live topic.
 * Events seen both ways are harmless: a replica only takes a higher version.
 */
@Injectable()
export class ReplicaRebuilder {
  private readonly logger = new Logger(ReplicaRebuilder.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly positions: ConsumerPositionsRepository,
    private readonly appliers: EventAppliers,
    private readonly bus: MessageBus,
  ) {}

  /** Rebuilds the shards that have no stored position; does nothing when every shard has one. */
  async rebuildMissing(signal: AbortSignal): Promise<void> {
    const missing = await this.shardsWithoutPosition();
    if (missing.length === 0) return;
    const started = Date.now();
    const admin = await this.bus.admin();
    let live: { partition: number; high: string }[];
    let state: { partition: number; low: string; high: string }[];
    try {
      live = await admin.offsets(TOPICS.stock);
      state = await admin.offsets(TOPICS.stockState);
    } finally {
      await admin.close();
    }
    const targets = new Map(
      state.filter((p) => missing.includes(p.partition) && BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]),
    );
    this.logger.log({ msg: 'rebuilding replicas from the state topic', shards: missing, partitionsWithData: [...targets.keys()] });
    let applied = 0;
    if (targets.size > 0) applied = await this.readState(targets, state, signal);
    if (signal.aborted) return;
    for (const shard of missing) {
      const high = BigInt(live.find((p) => p.partition === shard)?.high ?? '0');
      await this.databases.inShard(shard, (tx) => this.positions.saveIfAbsent(tx, TOPICS.stock, shard, high));
    }
    this.logger.log({ msg: 'replicas rebuilt', shards: missing.length, rowsRead: applied, ms: Date.now() - started });
  }

  /** The shards of this region's databases that have no stored position on the stock topic. */
  async shardsWithoutPosition(): Promise<number[]> {
    const missing: number[] = [];
    for (const db of this.databases.all()) {
      const stored = await this.databases.read(db, (tx) => this.positions.all(tx, TOPICS.stock));
      for (const shard of this.databases.shardsOf(db)) if (!stored.has(shard)) missing.push(shard);
    }
    return missing;
  }

  /**
   * Reads the state topic's target partitions up to the offsets given, and applies each fetched
   * batch in one set-based statement (see `EventAppliers.applyAll`); resolves the rows read. The
   * other partitions start at their end (a fetch made before the seek may still read some of
   * their records, which are passed over).
   */
  private async readState(
    targets: Map<number, bigint>,
    ends: readonly { partition: number; low: string; high: string }[],
    signal: AbortSignal,
  ): Promise<number> {
    const remaining = new Set(targets.keys());
    let read = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const consumer = this.bus.consumer({
      groupId: `stockmesh.rebuild.${this.config.region.id}.${randomUUID()}`,
      topics: [TOPICS.stockState],
      fromBeginning: true,
      maxWaitMs: this.config.kafka.maxWaitMs,
      positionsFor: fromStartOfTargets(ends, targets),
    });
    const check = stateRecordCheck(this.config);
    const apply = async (batch: MessageBatch): Promise<undefined> => {
      const end = targets.get(batch.partition);
      if (end === undefined || !remaining.has(batch.partition)) return undefined;
      const events: OffsetEvent[] = [];
      for (const message of batch.messages) {
        if (BigInt(message.offset) >= end) break;
        try {
          const event = parseEvent(message, [EVENT_TYPES.stockChanged]);
          // This region's own rows are its table's, not replicas.
          if (event.source === this.config.region.id) continue;
          check(event, batch.partition);
          events.push({ event });
        } catch (error) {
          // A bad record on the state topic was dead-lettered when it crossed the live topic; a
          // forged one is passed over as the live topic's check would refuse it.
          if (!(error instanceof PoisonEventError)) throw error;
        }
      }
      if (events.length > 0) await this.databases.inShard(batch.partition, (tx) => this.appliers.applyAll(tx, events));
      read += events.length;
      if (BigInt(batch.messages[batch.messages.length - 1].offset) + 1n >= end) {
        remaining.delete(batch.partition);
        if (remaining.size === 0) finish();
      }
      return undefined;
    };
    signal.addEventListener('abort', () => finish(), { once: true });
    try {
      await consumer.start(apply);
      await finished;
    } finally {
      await consumer.stop();
    }
    return read;
  }
}
