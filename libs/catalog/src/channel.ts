import { ApiProperty } from '@nestjs/swagger';

/** A sales channel as the API shows it. */
export class ChannelView {
  @ApiProperty({ example: 'web-eu' }) readonly id!: string;
  @ApiProperty({ example: 'eu-west', description: 'The region that defines the channel and is the only one that changes it.' })
  readonly region!: string;
  @ApiProperty({ example: 'Web shop, Europe' }) readonly name!: string;
  @ApiProperty({
    type: [String],
    example: ['fra-1', 'nyc-1'],
    description: 'The warehouses the channel sells from (any region’s), in the order reservations for the channel draw from them.',
  })
  readonly warehouseIds!: string[];
  @ApiProperty({ description: 'Bumped by the owning region on every change.' }) readonly version!: number;
  @ApiProperty({ format: 'date-time' }) readonly createdAt!: string;
  @ApiProperty({ format: 'date-time' }) readonly updatedAt!: string;
}

export class ChannelListView {
  @ApiProperty({ type: [ChannelView] }) readonly items!: ChannelView[];
}
