import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { Metrics } from '@stockmesh/metrics';

/** What anti-entropy did with one source region's rows here, since this process started. */
export interface ReplicaCheckFigures {
  /** When a digest of the region was last compared here; `null` if none was. */
  readonly lastCheckAt: string | null;
  readonly digestsCompared: number;
  /** Buckets compared, over all those digests: the unsettled and moved ones are left out. */
  readonly bucketsCompared: number;
  /** Buckets compared that differed (each is repaired). */
  readonly bucketsDiffered: number;
  readonly repairs: number;
  readonly rowsRepaired: number;
  readonly lastRepairAt: string | null;
  /** Shards repaired after records were missing from the live stock topic (retention). */
  readonly gapsRepaired: number;
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

/** The figures of anti-entropy per source region, since this process started (kept in memory). */
@Injectable()
export class ReplicaChecks {
  private readonly figures = new Map<string, ReplicaCheckFigures>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {}

  /** Records the comparison of one digest: how many buckets were compared, and how many differed. */
  compared(region: string, bucketsCompared: number, bucketsDiffered: number): void {
    this.metrics.digestCompared(region, bucketsCompared, bucketsDiffered);
    this.update(region, (f) => ({
      ...f,
      lastCheckAt: new Date(this.clock.now()).toISOString(),
      digestsCompared: f.digestsCompared + 1,
      bucketsCompared: f.bucketsCompared + bucketsCompared,
      bucketsDiffered: f.bucketsDiffered + bucketsDiffered,
    }));
  }

  repaired(region: string, rows: number): void {
    this.metrics.rowsRepaired(region, rows);
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
