import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** A row after a batch changed it: its new quantities and the ledger entry the change made. */
export class BatchStockLevelView {
  @ApiProperty({ example: 'eu-west', description: 'The owning region, which applied the change.' }) readonly region!: string;
  @ApiProperty({ minimum: 0 }) readonly onHand!: number;
  @ApiProperty({ minimum: 0 }) readonly reserved!: number;
  @ApiProperty({ minimum: 0, description: 'Units storefront reservations leave untouched (may exceed onHand).' })
  readonly safetyStock!: number;
  @ApiProperty({ minimum: 0, description: 'onHand - reserved - safetyStock, never below 0' }) readonly available!: number;
  @ApiPropertyOptional({
    minimum: 0,
    description: 'The low-stock threshold of the row (0: no alerts); absent from answers stored before alerts existed.',
  })
  readonly lowStockThreshold?: number;
  @ApiProperty({ description: 'The row version after this change.' }) readonly version!: number;
  @ApiProperty({ format: 'date-time' }) readonly updatedAt!: string;
  @ApiProperty({ format: 'uuid', description: 'Id of the ledger entry of this change.' }) readonly movementId!: string;
  @ApiProperty({ description: 'How much on-hand moved (for a count, the difference to the previous count).' }) readonly delta!: number;
}

/** What became of one row of a batch. */
export class BatchRowResultView {
  @ApiProperty({ description: 'Position of the row in the request.' }) readonly index!: number;
  @ApiProperty() readonly warehouseId!: string;
  @ApiProperty() readonly sku!: string;
  @ApiProperty({
    description:
      'What the single route would have answered for this change: 200 (set) or 201 (adjust) when applied, else the status of `problem`.',
    example: 200,
  })
  readonly status!: number;
  @ApiProperty({ description: 'The stored answer of an earlier request with the same row key; nothing changed now.' })
  readonly replayed!: boolean;
  @ApiPropertyOptional({ type: BatchStockLevelView, description: 'The row after the change; present when `status` is 200 or 201.' })
  readonly level?: BatchStockLevelView;
  @ApiPropertyOptional({
    description: 'Why the row was not applied: a problem details object (docs/errors.md); nothing of this row changed.',
  })
  readonly problem?: Record<string, unknown>;
}

export class BatchSummaryView {
  @ApiProperty() readonly rows!: number;
  @ApiProperty({ description: 'Rows applied now or replayed.' }) readonly succeeded!: number;
  @ApiProperty({ description: 'Rows refused; each has a `problem`.' }) readonly failed!: number;
  @ApiProperty({ description: 'Of the succeeded rows, those answered from an earlier request.' }) readonly replayed!: number;
  @ApiProperty({ description: 'Rows applied by another region (forwarded to their owner).' }) readonly forwarded!: number;
}

/** The answer to `POST /v1/stock/batch`: 200 when every row succeeded, 207 when any failed. */
export class BatchStockResultView {
  @ApiProperty({ type: BatchSummaryView }) readonly summary!: BatchSummaryView;
  @ApiProperty({ type: [BatchRowResultView], description: 'One per row, in request order.' }) readonly results!: BatchRowResultView[];
}
