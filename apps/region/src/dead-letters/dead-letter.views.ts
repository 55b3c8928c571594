import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** A replay of a dead letter, as recorded in the region's home database. */
export class DeadLetterReplayView {
  @ApiProperty({
    enum: ['applied', 'refused'],
    description: 'applied: the consumer ran the record; refused: it failed again, nothing changed.',
  })
  readonly outcome!: 'applied' | 'refused';
  @ApiProperty({
    example: 'io.stockmesh.stock.changed.v1 5d0a3c1e-... from eu-west applied',
    description: 'What it did, or why it was refused.',
  })
  readonly detail!: string;
  @ApiProperty({ example: 'key ops (a1b2c3d4e5f60718)', description: 'Who asked for it.' }) readonly actor!: string;
  @ApiProperty({ format: 'date-time' }) readonly replayedAt!: string;
}

/** A record one of this region's consumers refused and wrote to the dead-letter topic. */
export class DeadLetterView {
  @ApiProperty({ example: '0:42', description: '`<partition>:<offset>` in the dead-letter topic.' }) readonly id!: string;
  @ApiProperty({ example: 'stockmesh.replica.us-east', description: 'The consumer group that refused it (`dlt_consumer`).' })
  readonly consumer!: string;
  @ApiProperty({ example: 'warehouse late-1 is not in the catalog (waited 60000 ms for it)', description: '`dlt_reason`.' })
  readonly reason!: string;
  @ApiProperty({ example: 'stockmesh.stock.v1', description: 'Where the record came from (`dlt_topic`).' }) readonly topic!: string;
  @ApiProperty({ example: 4 }) readonly partition!: number;
  @ApiProperty({ example: '17', description: 'Its offset there, a decimal string.' }) readonly offset!: string;
  @ApiProperty({ type: String, nullable: true, example: 'SKU-1' }) readonly key!: string | null;
  @ApiPropertyOptional({ example: 'io.stockmesh.stock.changed.v1', description: 'Its `ce_type`, when it has one.' }) readonly type?: string;
  @ApiPropertyOptional({ description: 'Its `ce_id`, when it has one.' }) readonly eventId?: string;
  @ApiPropertyOptional({ example: 'eu-west', description: 'Its `ce_source`, when it has one.' }) readonly source?: string;
  @ApiProperty({ format: 'date-time', description: 'When it was dead-lettered (`dlt_time`).' }) readonly deadLetteredAt!: string;
  @ApiProperty({ minimum: 0, description: 'Size of the value in bytes.' }) readonly valueBytes!: number;
  @ApiProperty({ type: String, nullable: true, description: 'The value as UTF-8, cut at 512 characters; null for no value.' })
  readonly valuePreview!: string | null;
  @ApiProperty({ description: 'Whether this region can run it again (`POST /v1/dead-letters/{id}/replay`).' })
  readonly replayable!: boolean;
  @ApiPropertyOptional({ description: 'Why it cannot, when it cannot.' }) readonly notReplayableBecause?: string;
  @ApiProperty({ description: 'Whether a replay of it applied.' }) readonly replayed!: boolean;
  @ApiProperty({
    type: DeadLetterReplayView,
    nullable: true,
    description: 'Its applied replay, else its latest refused one; null when never replayed.',
  })
  readonly lastReplay!: DeadLetterReplayView | null;
}

/** This region's dead letters, newest first. */
export class DeadLettersView {
  @ApiProperty({ example: 'us-east', description: 'The region whose consumers wrote these.' }) readonly region!: string;
  @ApiProperty({ type: [DeadLetterView], description: 'Newest first (highest offset first).' }) readonly items!: DeadLetterView[];
  @ApiProperty({ description: 'Records of the dead-letter topic read for this answer (every region writes there).' })
  readonly scanned!: number;
  @ApiProperty({ description: 'Whether older records were left unread: the topic holds more than the scan reads.' })
  readonly truncated!: boolean;
}

/** A replay that applied. */
export class DeadLetterReplayedView extends DeadLetterReplayView {
  @ApiProperty({ example: '0:42' }) readonly id!: string;
  @ApiProperty({ example: 'stockmesh.replica.us-east' }) readonly consumer!: string;
}
