import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { OptionalChannelField } from '@stockmesh/catalog';
import { IDENTIFIER_PATTERN, MAX_QUANTITY, MAX_RESERVATION_LINES, RESERVATION_TTL } from '@stockmesh/contracts';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

export class ReservationLineRequest {
  @ApiProperty({ example: 'SKU-1' })
  @Matches(IDENTIFIER_PATTERN, { message: `sku must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit` })
  readonly sku!: string;

  @ApiProperty({ minimum: 1, maximum: MAX_QUANTITY, example: 2 })
  @IsInt()
  @Min(1)
  @Max(MAX_QUANTITY)
  readonly quantity!: number;

  @ApiPropertyOptional({ description: 'Hold in this warehouse only; without it the line is allocated (see docs/api.md).' })
  @IsOptional()
  @Matches(IDENTIFIER_PATTERN, { message: `warehouseId must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit` })
  readonly warehouseId?: string;
}

/** `POST /v1/reservations`. */
export class CreateReservationRequest {
  @ApiProperty({ type: [ReservationLineRequest], minItems: 1, maxItems: MAX_RESERVATION_LINES })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_RESERVATION_LINES)
  @ValidateNested({ each: true })
  @Type(() => ReservationLineRequest)
  readonly lines!: ReservationLineRequest[];

  @ApiPropertyOptional({ minimum: RESERVATION_TTL.min, maximum: RESERVATION_TTL.max, default: RESERVATION_TTL.default })
  @IsOptional()
  @IsInt()
  @Min(RESERVATION_TTL.min)
  @Max(RESERVATION_TTL.max)
  readonly ttlSeconds?: number;

  @ApiPropertyOptional({ description: 'Your cart or order id, 1-128 characters.' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  @Matches(/^[\x20-\x7e]+$/, { message: 'reference must be printable ASCII' })
  readonly reference?: string;

  @ApiPropertyOptional({ default: true, description: 'Whether one line may be held in several warehouses.' })
  @IsOptional()
  @IsBoolean()
  readonly allowSplit?: boolean;

  @ApiPropertyOptional({
    default: false,
    description:
      'Whether units a warehouse does not have on hand may be held out of its incoming stock (open receipts not promised yet): a backorder, filled as the units arrive (see docs/reservations.md).',
  })
  @IsOptional()
  @IsBoolean()
  readonly allowBackorder?: boolean;

  @OptionalChannelField('A sales channel: the lines are held only in its warehouses, tried in its order (see docs/reservations.md).')
  readonly channel?: string;
}
