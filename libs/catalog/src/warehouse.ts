import { ApiProperty } from '@nestjs/swagger';

/** A warehouse as the API shows it. */
export class WarehouseView {
  @ApiProperty({ example: 'fra-1' }) readonly id!: string;
  @ApiProperty({ example: 'eu-west', description: 'The region that owns the warehouse and is the only writer of its stock.' })
  readonly region!: string;
  @ApiProperty({ example: 'Frankfurt DC 1' }) readonly name!: string;
  @ApiProperty({ type: Number, nullable: true, example: 50.11 }) readonly latitude!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 8.68 }) readonly longitude!: number | null;
  @ApiProperty({ description: 'Bumped by the owner on every change.' }) readonly version!: number;
  @ApiProperty({ format: 'date-time' }) readonly createdAt!: string;
  @ApiProperty({ format: 'date-time' }) readonly updatedAt!: string;
}

export class WarehouseListView {
  @ApiProperty({ type: [WarehouseView] }) readonly items!: WarehouseView[];
}
