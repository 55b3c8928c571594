import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@stockmesh/auth';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { OutboxRelay, ReplicationStatus } from '@stockmesh/replication';
import { RegionFreshnessView } from '@stockmesh/stock';

class ClusterRegionView extends RegionFreshnessView {
  @ApiProperty() readonly url!: string;
  @ApiProperty({ description: 'The region that answered.' }) readonly self!: boolean;
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
}

@ApiTags('cluster')
@Controller('v1/cluster')
export class ClusterHttpController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly replication: ReplicationStatus,
    private readonly relay: OutboxRelay,
  ) {}

  /** Every region as this one sees it: heartbeats, staleness and replication lag. */
  @Get()
  @RequireScope('stock:read')
  @ApiOkResponse({ type: ClusterView })
  async get(): Promise<ClusterView> {
    const self = this.config.region.id;
    return {
      region: self,
      shardCount: this.config.cluster.shardCount,
      outboxPending: await this.relay.pending().catch(() => null),
      regions: this.config.cluster.regions.map((r) =>
        r.id === self
          ? { region: r.id, url: r.url, self: true, lastHeartbeatAt: null, stale: false, eventsBehind: 0, lagMs: 0 }
          : { ...this.replication.freshness(r.id), url: r.url, self: false },
      ),
    };
  }
}
