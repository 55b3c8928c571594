import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsInt, IsString, Matches, Max, Min } from 'class-validator';

export class MoveShardsRequest {
  @ApiProperty({ type: [Number], example: [8, 9, 10, 11], description: 'Logical shards to move, all now in one database; never 0.' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1024)
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(1023, { each: true })
  readonly shards!: number[];

  @ApiProperty({ example: 'us-east/2', description: 'The region’s database to move them to (its name in the cluster file).' })
  @IsString()
  @Matches(/^[\w./-]{1,64}$/, { message: 'to must be a database name of the cluster file' })
  readonly to!: string;
}

/** What a shard move did. */
export class ShardMoveView {
  @ApiProperty({ format: 'uuid' }) readonly id!: string;
  @ApiProperty({ type: [Number] }) readonly shards!: number[];
  @ApiProperty({ example: 'us-east/1', description: 'The database the shards lived in.' }) readonly from!: string;
  @ApiProperty({ example: 'us-east/2', description: 'The database they live in now.' }) readonly to!: string;
  @ApiProperty({ description: 'Copy rounds before the pause (the first copies every row, the next what changed meanwhile).' })
  readonly rounds!: number;
  @ApiProperty({ description: 'Rows inserted, replaced or deleted in the new database, over every round.' }) readonly rowsCopied!: number;
  @ApiProperty({ description: 'How long writes to the moved shards were paused, in milliseconds.' }) readonly pauseMs!: number;
  @ApiProperty({ example: 3, description: 'The shard map’s version the move put in force.' }) readonly mapVersion!: number;
  @ApiProperty({ description: 'How long the whole move took, in milliseconds.' }) readonly ms!: number;
}

class ShardDatabaseView {
  @ApiProperty({ example: 'us-east/1' }) readonly name!: string;
  @ApiProperty({ type: [Number], description: 'The logical shards it hosts now (none for a spare).' }) readonly shards!: number[];
}

/** Where this region's shards live now. */
export class ShardMapView {
  @ApiProperty({ example: 'us-east' }) readonly region!: string;
  @ApiProperty({ example: 16 }) readonly shardCount!: number;
  @ApiProperty({ example: 0, description: 'The shard map’s version in force here (0 while no shard has moved).' })
  readonly version!: number;
  @ApiProperty({ type: [ShardDatabaseView] }) readonly databases!: ShardDatabaseView[];
}
