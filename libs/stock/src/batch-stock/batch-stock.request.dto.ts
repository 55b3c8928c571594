import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ADJUSTMENT_REASONS, MAX_QUANTITY, type AdjustmentReason } from '@stockmesh/contracts';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  Matches,
  Max,
  Min,
  NotEquals,
  ValidateNested,
} from 'class-validator';
import { StockKeyParams } from '../stock-key.params.js';

/** Most rows one `POST /v1/stock/batch` may carry. */
export const MAX_BATCH_ROWS = 1_000;

/**
 * The largest body the batch route accepts, above the general `STOCKMESH_BODY_LIMIT` (64 KiB by
 * default, a few hundred rows): 1,000 rows of the longest ids, reason and key fit in about 0.5 MiB.
 */
export const BATCH_BODY_LIMIT_BYTES = 1024 * 1024;

export const BATCH_OPERATIONS = ['set', 'adjust'] as const;
export type BatchOperation = (typeof BATCH_OPERATIONS)[number];

/** An Idempotency-Key: printable ASCII without spaces, 1-255 characters (as the header). */
const ROW_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * One row of a batch: a count (`set`, with `quantity`, `safetyStock`, `lowStockThreshold` or several) or an adjustment
 * (`adjust`, with `delta`).
 */
export class BatchStockRow extends StockKeyParams {
  @ApiProperty({
    enum: BATCH_OPERATIONS,
    description:
      '`set`: a count (needs `quantity`, `safetyStock`, `lowStockThreshold` or several); `adjust`: a relative change (needs `delta`).',
  })
  @IsIn(BATCH_OPERATIONS)
  readonly op!: BatchOperation;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_QUANTITY, example: 120, description: 'The counted on-hand; `set` rows only.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_QUANTITY)
  readonly quantity?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_QUANTITY,
    example: 10,
    description:
      'The safety stock (units storefront reservations leave untouched; may exceed on-hand); `set` rows only. Absent: unchanged.',
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
      'The low-stock threshold (alerts when `available` crosses it, docs/events.md "Stock alerts"; 0: none); `set` rows only. Absent: unchanged.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_QUANTITY)
  readonly lowStockThreshold?: number;

  @ApiPropertyOptional({
    minimum: -MAX_QUANTITY,
    maximum: MAX_QUANTITY,
    example: 24,
    description: 'Non-zero; negative removes units; `adjust` rows only.',
  })
  @IsOptional()
  @IsInt()
  @NotEquals(0, { message: 'delta must not be 0' })
  @Min(-MAX_QUANTITY)
  @Max(MAX_QUANTITY)
  readonly delta?: number;

  @ApiPropertyOptional({
    enum: ADJUSTMENT_REASONS,
    description: 'The ledger reason: required for `adjust`; `set` rows may only say `cycle-count`, their default.',
  })
  @IsOptional()
  @IsIn(ADJUSTMENT_REASONS)
  readonly reason?: AdjustmentReason;

  @ApiPropertyOptional({
    description:
      "The row's own Idempotency-Key (1-255 printable ASCII characters, no spaces). Without it, a row of a request with an Idempotency-Key header is keyed by that header and the row's warehouse and SKU.",
  })
  @IsOptional()
  @Matches(ROW_KEY_PATTERN, { message: 'idempotencyKey must be 1-255 printable ASCII characters without spaces' })
  readonly idempotencyKey?: string;
}

/** `POST /v1/stock/batch`. */
export class BatchStockRequest {
  @ApiProperty({ type: [BatchStockRow], minItems: 1, maxItems: MAX_BATCH_ROWS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_ROWS)
  @ValidateNested({ each: true })
  @Type(() => BatchStockRow)
  readonly rows!: BatchStockRow[];
}
