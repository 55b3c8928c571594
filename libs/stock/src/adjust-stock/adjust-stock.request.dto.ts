import { ApiProperty } from '@nestjs/swagger';
import { ADJUSTMENT_REASONS, MAX_QUANTITY, type AdjustmentReason } from '@stockmesh/contracts';
import { IsIn, IsInt, Max, Min, NotEquals } from 'class-validator';

/** `POST /v1/warehouses/{warehouseId}/stock/{sku}/adjustments`. */
export class AdjustStockRequest {
  @ApiProperty({ minimum: -MAX_QUANTITY, maximum: MAX_QUANTITY, example: 24, description: 'Non-zero; negative removes units.' })
  @IsInt()
  @NotEquals(0, { message: 'delta must not be 0' })
  @Min(-MAX_QUANTITY)
  @Max(MAX_QUANTITY)
  readonly delta!: number;

  @ApiProperty({ enum: ADJUSTMENT_REASONS, example: 'received' })
  @IsIn(ADJUSTMENT_REASONS)
  readonly reason!: AdjustmentReason;
}
