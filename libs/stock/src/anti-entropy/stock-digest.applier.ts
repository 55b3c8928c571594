import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DIGEST_BUCKETS, EVENT_TYPES, PoisonEventError, type CloudEvent, type StockDigestData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import { EventAppliers, type EventApplier } from '@stockmesh/replication';
import { StockReplicaRepository } from '../stock-replica.repository.js';
import { differingBuckets } from './bucket-digest.js';
import { ReplicaChecks } from './replica-checks.js';
import { ReplicaRepairService } from './replica-repair.service.js';

/**
 * Compares another region's digest with this region's replica of its rows of the shard, once this
 * region has applied the stock partition up to the digest's `toOffset` (StockDigestListener
 * waits for that). Left out: the buckets the owner calls unsettled, and those in which a replica
 * row was changed by an event from `fromOffset` on (it may be newer than what the owner counted).
 * Every other bucket holds exactly what the owner counted, so one that differs is damaged and is
 * repaired at once from the state topic.
 */
@Injectable()
export class StockDigestApplier implements EventApplier<typeof EVENT_TYPES.stockDigest>, OnModuleInit {
  readonly type = EVENT_TYPES.stockDigest;
  private readonly logger = new Logger(StockDigestApplier.name);

  constructor(
    private readonly appliers: EventAppliers,
    private readonly replicas: StockReplicaRepository,
    private readonly checks: ReplicaChecks,
    private readonly repair: ReplicaRepairService,
  ) {}

  onModuleInit(): void {
    this.appliers.register(this);
  }

  async apply(tx: SqlTx, event: CloudEvent<typeof EVENT_TYPES.stockDigest, StockDigestData>): Promise<void> {
    const { region, shard, buckets, unsettled, fromOffset } = event.data;
    // A region speaks for its own rows only.
    if (region !== event.source) throw new PoisonEventError(`a digest of ${region}'s rows sent by ${event.source}`);
    if (new Set(buckets.map((b) => b.bucket)).size !== buckets.length) throw new PoisonEventError('a digest names a bucket twice');
    const ours = await this.replicas.digest(tx, shard, region, BigInt(fromOffset));
    const skipped = new Set([...unsettled, ...ours.filter((b) => b.moved).map((b) => b.bucket)]);
    const differing = differingBuckets(
      buckets.filter((b) => !skipped.has(b.bucket)),
      ours.filter((b) => !skipped.has(b.bucket)),
    );
    this.checks.compared(region, DIGEST_BUCKETS - skipped.size, differing.length);
    if (differing.length === 0) return;
    this.logger.warn({ msg: 'replica buckets differ from the owner’s digest; repairing them', source: region, shard, buckets: differing });
    this.repair.request(shard, region, differing);
  }
}
