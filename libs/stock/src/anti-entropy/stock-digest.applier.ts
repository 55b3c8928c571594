import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DIGEST_BUCKETS, EVENT_TYPES, PoisonEventError, type CloudEvent, type StockDigestData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import { EventAppliers, type EventApplier } from '@stockmesh/replication';
import { StockReplicaRepository } from '../stock-replica.repository.js';
import { differingBuckets } from './bucket-digest.js';
import { ReplicaChecks } from './replica-checks.js';
import { ReplicaRepairService } from './replica-repair.service.js';

/**
 * Compares another region's digest with this region's replica of its rows of the shard, inside
 * the replicator's transaction of the digest's partition: every change before the digest in the
 * partition is applied, none after it, so both sides are at the same point of the owner's stream.
 * Buckets that differ at two digests in a row go to the repair.
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
    const { region, shard, buckets } = event.data;
    // A region speaks for its own rows only.
    if (region !== event.source) throw new PoisonEventError(`a digest of ${region}'s rows sent by ${event.source}`);
    if (new Set(buckets.map((b) => b.bucket)).size !== buckets.length) throw new PoisonEventError('a digest names a bucket twice');
    const differing = differingBuckets(buckets, await this.replicas.digest(tx, shard, region));
    const confirmed = this.checks.compared(region, shard, event.id, DIGEST_BUCKETS, differing);
    if (differing.length === 0) return;
    this.logger.log({ msg: 'replica buckets differ from the owner’s digest', region, shard, buckets: differing, repairing: confirmed });
    if (confirmed.length > 0) this.repair.request(shard, region, confirmed);
  }
}
