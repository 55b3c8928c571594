import { ApiPropertyOptional } from '@nestjs/swagger';
import { MAX_QUANTITY } from '@stockmesh/contracts';
import { IsDefined, IsInt, IsOptional, Max, Min, ValidateIf } from 'class-validator';

/**
 * `PUT /v1/warehouses/{warehouseId}/stock/{sku}`: the counted quantity, the safety stock, or both.
 * What is left out stays as it is, so a planner can change the safety stock without knowing (and
 * without overwriting) the latest count.
 */
export class SetStockRequest {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_QUANTITY,
    example: 120,
    description: 'The counted on-hand quantity. Required unless `safetyStock` is given.',
  })
  // Checked when given, and required when safetyStock is not: a body must set something.
  @ValidateIf((body: SetStockRequest) => body.onHand !== undefined || body.safetyStock === undefined)
  @IsDefined({ message: 'onHand is required unless safetyStock is given' })
  @IsInt()
  @Min(0)
  @Max(MAX_QUANTITY)
  readonly onHand?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_QUANTITY,
    example: 10,
    description:
      'Units storefront reservations leave untouched; only keys with `stock:reserve-safety` may hold into them. May exceed onHand (available then shows 0). Absent: unchanged.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_QUANTITY)
  readonly safetyStock?: number;
}
