import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { PublicOperation, PublicRoute } from '@stockmesh/auth';
import { SERVER_PROBLEMS } from '@stockmesh/http';
import { ShardDatabases } from '@stockmesh/persistence';
import { ReplicaBootstrap } from '@stockmesh/replication';

@ApiTags('health')
// Open to anyone without a key: load balancers and orchestrators poll these.
@PublicRoute()
@Controller('health')
export class HealthHttpController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly databases: ShardDatabases,
    private readonly bootstrap: ReplicaBootstrap,
  ) {}

  /** The process is up. */
  @Get('live')
  @PublicOperation({ operationId: 'getLiveness', summary: 'Is the process up', problems: SERVER_PROBLEMS })
  // Terminus documents its answers only where it can load @nestjs/swagger itself (not under jest).
  @ApiOkResponse({ description: 'Up.' })
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /**
   * Ready to serve: every shard database of the region answers, and the region holds the other
   * regions' rows (a region that started without them, e.g. one joining the cluster, is not ready
   * until it has rebuilt them and applied what was published meanwhile). 503 otherwise.
   */
  @Get('ready')
  @PublicOperation({
    operationId: 'getReadiness',
    summary: 'Can the region serve requests',
    problems: [...SERVER_PROBLEMS, 'not-ready'],
  })
  @ApiOkResponse({ description: 'Ready: every shard database of the region answers and its replicas are complete.' })
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.shardDatabases(), () => this.replicas()]);
  }

  private async shardDatabases(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('databases');
    const down = await this.databases.unreachable();
    const details = { total: this.databases.all().length, unreachable: down };
    return down.length === 0 ? indicator.up(details) : indicator.down(details);
  }

  private async replicas(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('replicas');
    const status = await this.bootstrap.status();
    return status.phase === 'complete' ? indicator.up({ ...status }) : indicator.down({ ...status });
  }
}
