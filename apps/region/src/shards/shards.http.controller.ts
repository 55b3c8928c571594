import { Body, Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { CodedException } from '@stockmesh/contracts';
import { BODY_PROBLEMS } from '@stockmesh/http';
import { ShardDatabases, ShardMoveError, ShardMover } from '@stockmesh/persistence';
import { MoveShardsRequest, ShardMapView, ShardMoveView } from './shards.dto.js';

class ShardMoveConflict extends CodedException<'shard-move-conflict'> {
  constructor(message: string) {
    super('shard-move-conflict', message);
  }
}

@ApiTags('cluster')
@Controller('v1/cluster/shards')
export class ShardsHttpController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
  ) {}

  /**
   * Where this region's logical shards live, by the map the answering instance routes by (it
   * reads the home database's every 150 ms): the cluster file's ranges with the moves since.
   */
  @Get()
  @ScopedOperation('admin', { operationId: 'getShardMap', summary: 'Where this region’s shards live now', problems: [] })
  @ApiOkResponse({ type: ShardMapView })
  map(): ShardMapView {
    return {
      region: this.config.region.id,
      shardCount: this.databases.shardCount,
      version: this.databases.mapVersion,
      databases: this.databases.all().map((db) => ({ name: db.name, shards: this.databases.shardsOf(db) })),
    };
  }

  /**
   * Moves logical shards of this region to another of its databases while writes go on (copy,
   * a fenced cutover pausing writes to those shards for about a second, then the old copy is
   * deleted); answers once done. See docs/operations.md, "Moving shards".
   */
  @Post('moves')
  @HttpCode(200)
  @ScopedOperation('admin', {
    operationId: 'moveShards',
    summary: 'Move logical shards to another database of this region, online',
    problems: [...BODY_PROBLEMS, 'shard-move-conflict'],
  })
  @ApiOkResponse({ type: ShardMoveView })
  async move(@Body() body: MoveShardsRequest): Promise<ShardMoveView> {
    try {
      const report = await new ShardMover(this.databases).move({ shards: body.shards, to: body.to });
      return { ...report, shards: [...report.shards] };
    } catch (error) {
      if (error instanceof ShardMoveError) throw new ShardMoveConflict(error.message);
      throw error;
    }
  }
}
