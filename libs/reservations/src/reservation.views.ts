import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class AllocationView {
  @ApiProperty() readonly sku!: string;
  @ApiProperty() readonly warehouseId!: string;
  @ApiProperty({ description: 'The region owning the warehouse.' }) readonly region!: string;
  @ApiProperty() readonly quantity!: number;
  @ApiProperty({
    enum: ['held', 'committed', 'released', 'lost'],
    description: 'Where the hold is at its owner; `lost`: the owner no longer had it when the reservation was committed.',
  })
  readonly state!: 'held' | 'committed' | 'released' | 'lost';
  @ApiPropertyOptional({
    description: 'Of a committed allocation of a partial commit: the units that left on-hand (the rest were released).',
  })
  readonly committedQuantity?: number;
  @ApiPropertyOptional({
    description:
      'Of a reservation that allowed backorders: the units of this allocation that were not on hand when it was held, promised out of the warehouse’s incoming stock (filled, oldest first, as units are received).',
  })
  readonly backordered?: number;
  @ApiPropertyOptional({ example: 'CAMERA-KIT', description: 'Of a kit’s component: the kit the units are held for.' })
  readonly kitSku?: string;
  @ApiPropertyOptional({ example: 1, description: 'Of a kit’s component: the request line (1-based) that asked for the kit.' })
  readonly kitLine?: number;
}

export class ReservationView {
  @ApiProperty({ example: 'us-east.0f8fad5b-d9cb-469f-a165-70867728950e', description: '<coordinating region>.<uuid>' })
  readonly id!: string;
  @ApiProperty({
    enum: ['held', 'committing', 'committed', 'commit-failed', 'released', 'expired'],
    description:
      '`committing`: committed here, not yet confirmed by every owner; `commit-failed`: an owner no longer had a hold (see allocations).',
  })
  readonly status!: 'held' | 'committing' | 'committed' | 'commit-failed' | 'released' | 'expired';
  @ApiProperty({ format: 'date-time' }) readonly expiresAt!: string;
  @ApiPropertyOptional({ type: String, nullable: true }) readonly reference!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The sales channel it was made for, or null.' })
  readonly channel!: string | null;
  @ApiProperty({ type: [AllocationView], description: 'Where the units are held (or were, once committed or released).' })
  readonly allocations!: AllocationView[];
  @ApiProperty({ format: 'date-time' }) readonly createdAt!: string;
}

/** Per line of a refused reservation: what was asked and what could be found. */
export class LineShortfallView {
  @ApiProperty() readonly sku!: string;
  @ApiProperty() readonly requested!: number;
  @ApiProperty({ description: 'Units this region saw available for the line (in the named warehouse, if one was named).' })
  readonly available!: number;
  @ApiPropertyOptional() readonly warehouseId?: string;
  @ApiPropertyOptional({ description: 'Of a kit’s component line: the kit (`sku` is the component, `requested` its units).' })
  readonly kitSku?: string;
  @ApiPropertyOptional({ description: 'Of a kit’s component line: the request line (1-based) that asked for the kit.' })
  readonly kitLine?: number;
}
