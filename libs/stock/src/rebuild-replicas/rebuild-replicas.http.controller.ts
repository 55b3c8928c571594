import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { BODY_PROBLEMS, ValidationProblem } from '@stockmesh/http';
import { ReplicaRepairService } from '../anti-entropy/replica-repair.service.js';
import { StockErrorCode, StockException } from '../stock.exception.js';
import { RebuildReplicasRequest } from './rebuild-replicas.request.dto.js';
import { ReplicasRebuiltView } from './rebuild-replicas.views.js';

@ApiTags('cluster')
@Controller('v1/cluster/replicas/rebuild')
export class RebuildReplicasHttpController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repair: ReplicaRepairService,
  ) {}

  /**
   * Rebuilds this region's replicas of other regions' stock from the state topic now, without a
   * restart and while replication goes on; answers once done. Never moves a row back to an older
   * version than it got from replication meanwhile.
   */
  @Post()
  @HttpCode(200)
  @ScopedOperation('admin', {
    operationId: 'rebuildReplicas',
    summary: 'Rebuild this region’s replicas from the state topic',
    problems: [...BODY_PROBLEMS, 'not-ready'],
  })
  @ApiOkResponse({ type: ReplicasRebuiltView })
  async rebuild(@Body() body: RebuildReplicasRequest): Promise<ReplicasRebuiltView> {
    const region = this.config.region.id;
    if (!this.config.replication.enabled) {
      // Only single-region tests run so: the region reads no topic, and has no replicas to rebuild.
      throw new StockException(
        StockErrorCode.NotReady,
        'replication is off in this region (STOCKMESH_REPLICATION=false): it reads no Kafka topic',
      );
    }
    const others = this.config.cluster.regions.map((r) => r.id).filter((id) => id !== region);
    if (body.region !== undefined && !others.includes(body.region)) {
      const message = `region must be another region of the cluster (${others.join(', ')})`;
      throw new ValidationProblem([{ field: 'region', constraint: 'isIn', message }]);
    }
    const sources = body.region === undefined ? others : [body.region];
    const report = await this.repair.rebuild(sources);
    return { region, sources, shards: report.shards, rowsRead: report.rowsRead, rowsRepaired: report.rowsRepaired, ms: report.ms };
  }
}
