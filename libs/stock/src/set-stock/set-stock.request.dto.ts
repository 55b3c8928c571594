import { ApiPropertyOptional } from '@nestjs/swagger';
import { MAX_QUANTITY } from '@stockmesh/contracts';
import { IsDefined, IsInt, IsOptional, Max, Min, ValidateIf } from 'class-validator';

/**
 * `PUT /v1/warehouses/{warehouseId}/stock/{sku}`: the counted quantity, the safety stock, the
 * low-stock threshold, or several. What is left out stays as it is, so a planner can change the
 * safety stock or the threshold without knowing (and without overwriting) the latest count.
 */
export class SetStockRequest {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_QUANTITY,
    example: 120,
    description: 'The counted on-hand quantity. Required unless `safetyStock` or `lowStockThreshold` is given.',
  })
  // Checked when given, and required when nothing else is: a body must set something.
  @ValidateIf(
    (body: SetStockRequest) => body.onHand !== undefined || (body.safetyStock === undefined && body.lowStockThreshold === undefined),
  )
  @IsDefined({ message: 'onHand is required unless safetyStock or lowStockThreshold is given' })
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

  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_QUANTITY,
    example: 5,
    description:
      'Low-stock alerts: the owner announces `io.stockmesh.stock.low.v1` once when `available` drops below it, and `io.stockmesh.stock.back-in-stock.v1` once when it is back at or above it (docs/events.md, "Stock alerts"). Setting it above what is available announces `low` once. 0 turns the alerts off. Absent: unchanged.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_QUANTITY)
  readonly lowStockThreshold?: number;
}
