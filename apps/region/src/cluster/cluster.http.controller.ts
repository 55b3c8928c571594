import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { Metrics } from '@stockmesh/metrics';
import { HoldAuditor } from '@stockmesh/reservations';
import { OutboxRelay, ReplicationStatus } from '@stockmesh/replication';
import { RegionFreshnessView, ReplicaChecks } from '@stockmesh/stock';

/** What anti-entropy did here with a source region's rows, since this process started. */
class ReplicaChecksView {
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'When a digest of the region was last compared here.' })
  readonly lastCheckAt!: string | null;
  @ApiProperty({ description: 'Digests of the region compared here (one per shard and interval).' }) readonly digestsCompared!: number;
  @ApiProperty({ description: 'Buckets compared, over all those digests.' }) readonly bucketsCompared!: number;
  @ApiProperty({ description: 'Buckets that differed when compared; one is repaired when it differs at two digests in a row.' })
  readonly bucketsDiffered!: number;
  @ApiProperty({ description: 'Repairs run from the state topic (of digest buckets, or of a whole shard after a gap).' })
  readonly repairs!: number;
  @ApiProperty({ description: 'Replica rows inserted, replaced or deleted by repairs.' }) readonly rowsRepaired!: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'When a repair last changed a row.' })
  readonly lastRepairAt!: string | null;
  @ApiProperty({ description: 'Shards repaired because records were missing from the live stock topic (retention).' })
  readonly gapsRepaired!: number;
}

class ClusterRegionView extends RegionFreshnessView {
  @ApiProperty() readonly url!: string;
  @ApiProperty({ description: 'The region that answered.' }) readonly self!: boolean;
  @ApiProperty({
    type: ReplicaChecksView,
    nullable: true,
    description: 'Anti-entropy of its rows here; null for the region that answered.',
  })
  readonly replicaChecks!: ReplicaChecksView | null;
}

/** The last pass of this region's audit of its held holds with their coordinators (docs/reservations.md). */
class HoldAuditView {
  @ApiProperty({ format: 'date-time', description: 'When the pass ran.' }) readonly at!: string;
  @ApiProperty({ description: 'Held holds old enough to be asked about.' }) readonly checked!: number;
  @ApiProperty({ description: 'Released because their coordinator no longer wants or does not know them.' }) readonly released!: number;
  @ApiProperty({ description: 'Left held although their coordinator counts them committed or lost (see the log).' })
  readonly anomalies!: number;
  @ApiProperty({ description: 'Not judged because their coordinator did not answer; asked again next pass.' })
  readonly unanswered!: number;
}

class ClusterView {
  @ApiProperty() readonly region!: string;
  @ApiProperty() readonly shardCount!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Events of this region waiting in its outboxes to be published; null if a database did not answer.',
  })
  readonly outboxPending!: number | null;
  @ApiProperty({ type: [ClusterRegionView] }) readonly regions!: ClusterRegionView[];
  @ApiProperty({ type: HoldAuditView, nullable: true, description: 'The last hold audit here; null before the first.' })
  readonly holdAudit!: HoldAuditView | null;
}

class ReservationTotalsView {
  @ApiProperty({ required: false }) readonly held?: number;
  @ApiProperty({ required: false }) readonly insufficient_stock?: number;
  @ApiProperty({ required: false }) readonly committed?: number;
  @ApiProperty({ required: false }) readonly released?: number;
  @ApiProperty({ required: false }) readonly expired?: number;
  @ApiProperty({ required: false }) readonly abandoned?: number;
}

/** Counters of the process that answered, since it started (the same figures as its Prometheus metrics). */
class ActivityTotalsView {
  @ApiProperty({ description: 'Client writes (POST, PUT, DELETE) answered 2xx on the public listener.' }) readonly writeRequests!: number;
  @ApiProperty({ type: ReservationTotalsView, description: 'Reservations coordinated here, by outcome (absent: none).' })
  readonly reservations!: ReservationTotalsView;
  @ApiProperty({ description: 'Outbox events published to Kafka.' }) readonly eventsPublished!: number;
  @ApiProperty({ description: 'Other regions’ events applied to the replicas here.' }) readonly eventsApplied!: number;
  @ApiProperty({ description: 'Records sent to the dead-letter topic.' }) readonly deadLetters!: number;
  @ApiProperty({ description: 'Replica rows repaired by anti-entropy.' }) readonly rowsRepaired!: number;
}

class ActivityView {
  @ApiProperty() readonly region!: string;
  @ApiProperty({
    format: 'date-time',
    description: 'When the counters were read: a rate is the difference of two readings over the time between them.',
  })
  readonly at!: string;
  @ApiProperty({
    format: 'date-time',
    description:
      'When the answering process started counting; a later value than before means it restarted (its counters began again at 0).',
  })
  readonly since!: string;
  @ApiProperty({ type: ActivityTotalsView }) readonly totals!: ActivityTotalsView;
}

@ApiTags('cluster')
@Controller('v1/cluster')
export class ClusterHttpController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly replication: ReplicationStatus,
    private readonly relay: OutboxRelay,
    private readonly checks: ReplicaChecks,
    private readonly holdAudit: HoldAuditor,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  /** When this process started counting: the app (and its Metrics) is made once per process. */
  private readonly since = new Date().toISOString();

  /** Every region as this one sees it: heartbeats, staleness, replication lag and anti-entropy; and this region's hold audit. */
  @Get()
  @ScopedOperation('stock:read', { operationId: 'getCluster', summary: 'Get the cluster as this region sees it' })
  @ApiOkResponse({ type: ClusterView })
  async get(): Promise<ClusterView> {
    const self = this.config.region.id;
    return {
      region: self,
      shardCount: this.config.cluster.shardCount,
      outboxPending: await this.relay.pending().catch(() => null),
      regions: this.config.cluster.regions.map((r) =>
        r.id === self
          ? { region: r.id, url: r.url, self: true, lastHeartbeatAt: null, stale: false, eventsBehind: 0, lagMs: 0, replicaChecks: null }
          : { ...this.replication.freshness(r.id), url: r.url, self: false, replicaChecks: this.checks.of(r.id) },
      ),
      holdAudit: this.holdAudit.lastReport() ?? null,
    };
  }

  /**
   * This process's activity counters since it started, as JSON: what the dashboard turns into
   * rates between two readings, without parsing Prometheus text or reaching `/metrics`, which is
   * only on the internal listener.
   */
  @Get('activity')
  @ScopedOperation('stock:read', {
    operationId: 'getClusterActivity',
    summary: 'Get the activity counters of the region process that answers',
  })
  @ApiOkResponse({ type: ActivityView })
  async activity(): Promise<ActivityView> {
    const totals = await this.metrics.activity();
    return { region: this.config.region.id, at: new Date(this.clock.now()).toISOString(), since: this.since, totals };
  }
}
