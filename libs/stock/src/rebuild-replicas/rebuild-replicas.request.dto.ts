import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';

export class RebuildReplicasRequest {
  @ApiPropertyOptional({ example: 'eu-west', description: 'Only the replicas of this region’s rows; every other region’s when absent.' })
  @IsOptional()
  @Matches(/^[a-z][a-z0-9-]{0,23}$/, { message: 'region must be a region id' })
  readonly region?: string;
}
