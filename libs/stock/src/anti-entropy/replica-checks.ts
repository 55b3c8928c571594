import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';

/** What anti-entropy did with one source region's rows here, since this process started. */
export interface ReplicaCheckFigures {
  /** When a digest of the region was last compared here; `null` if none was. */
  readonly lastCheckAt: string | null;
  readonly digestsCompared: number;
  readonly bucketsCompared: number;
  /** Buckets that differed when compared (a first difference is checked again before a repair). */
  readonly bucketsDiffered: number;
  readonly repairs: number;
  readonly rowsRepaired: number;
  readonly lastRepairAt: string | null;
  /** Shards repaired after records were missing from the live stock topic (retention). */
  readonly gapsRepaired: number;
}

interface Suspicion {
  readonly digestId: string;
  readonly buckets: ReadonlySet<number>;
}

const NONE: ReplicaCheckFigures = {
  lastCheckAt: null,
  digestsCompared: 0,
  bucketsCompared: 0,
  bucketsDiffered: 0,
  repairs: 0,
  rowsRepaired: 0,
  lastRepairAt: null,
  gapsRepaired: 0,
};

/**
 * The figures of anti-entropy per source region, and which buckets differed at the last digest
 * of each (region, shard): a bucket is repaired only when it differs at two digests in a row.
 * Digests sit in the stock topic at the owner's point, so a replica compares at the same point of
 * the stream; the one difference that can still appear is a change that committed while the
 * owner computed the digest but precedes it in the partition, and it is gone at the next digest.
 * Kept in memory: a restarted process checks twice again before it repairs.
 */
@Injectable()
export class ReplicaChecks {
  private readonly figures = new Map<string, ReplicaCheckFigures>();
  private readonly suspicions = new Map<string, Suspicion>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /**
   * Records a comparison; resolves the buckets to repair: those that also differed at the
   * previous digest of the same region and shard. The same digest compared again (its batch
   * was applied again) is not a second one.
   */
  compared(region: string, shard: number, digestId: string, bucketsCompared: number, differing: readonly number[]): number[] {
    const key = `${region}/${shard}`;
    const previous = this.suspicions.get(key);
    if (previous?.digestId === digestId) return [];
    this.update(region, (f) => ({
      ...f,
      lastCheckAt: new Date(this.clock.now()).toISOString(),
      digestsCompared: f.digestsCompared + 1,
      bucketsCompared: f.bucketsCompared + bucketsCompared,
      bucketsDiffered: f.bucketsDiffered + differing.length,
    }));
    const confirmed = previous ? differing.filter((b) => previous.buckets.has(b)) : [];
    // A confirmed bucket goes to the repair; it must differ twice again to be repaired again.
    this.suspicions.set(key, { digestId, buckets: new Set(differing.filter((b) => !confirmed.includes(b))) });
    return confirmed;
  }

  repaired(region: string, rows: number): void {
    this.update(region, (f) => ({
      ...f,
      repairs: f.repairs + 1,
      rowsRepaired: f.rowsRepaired + rows,
      lastRepairAt: rows > 0 ? new Date(this.clock.now()).toISOString() : f.lastRepairAt,
    }));
  }

  gapRepaired(region: string): void {
    this.update(region, (f) => ({ ...f, gapsRepaired: f.gapsRepaired + 1 }));
  }

  of(region: string): ReplicaCheckFigures {
    return this.figures.get(region) ?? NONE;
  }

  /** Every other region's figures. */
  all(): (ReplicaCheckFigures & { region: string })[] {
    return this.config.cluster.regions.filter((r) => r.id !== this.config.region.id).map((r) => ({ region: r.id, ...this.of(r.id) }));
  }

  private update(region: string, change: (f: ReplicaCheckFigures) => ReplicaCheckFigures): void {
    this.figures.set(region, change(this.of(region)));
  }
}
