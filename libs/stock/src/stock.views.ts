import { ApiProperty, OmitType } from '@nestjs/swagger';
import { ADJUSTMENT_REASONS, MAX_QUANTITY } from '@stockmesh/contracts';
import type { MovementKind } from './stock.repository.js';

/** An open incoming receipt of a row: units announced and not received yet. */
export class IncomingReceiptView {
  @ApiProperty({ example: 'po-4471', description: 'The purchase order or advance shipping notice, as the warehouse names it.' })
  readonly receiptId!: string;
  @ApiProperty({ minimum: 1, maximum: MAX_QUANTITY, description: 'Units still expected (what was received is on hand).' })
  readonly quantity!: number;
  @ApiProperty({ format: 'date', example: '2026-12-24', description: 'The expected day of arrival.' })
  readonly expectedAt!: string;
}

/** One (warehouse, sku) row as the owner holds it. */
export class StockView {
  @ApiProperty({ example: 'fra-1' }) readonly warehouseId!: string;
  @ApiProperty({ example: 'SKU-1' }) readonly sku!: string;
  @ApiProperty({ example: 'eu-west', description: 'The owning region.' }) readonly region!: string;
  @ApiProperty({ minimum: 0 }) readonly onHand!: number;
  @ApiProperty({ minimum: 0 }) readonly reserved!: number;
  @ApiProperty({
    minimum: 0,
    maximum: MAX_QUANTITY,
    description: 'Units storefront reservations leave untouched (may exceed onHand); only keys with `stock:reserve-safety` hold into them.',
  })
  readonly safetyStock!: number;
  @ApiProperty({ minimum: 0, description: 'What storefronts may reserve: onHand - reserved - safetyStock, never below 0.' })
  readonly available!: number;
  @ApiProperty({
    type: [IncomingReceiptView],
    description: 'Open incoming receipts, by expected day then id (at most 20); received units are on hand, not here.',
  })
  readonly incoming!: IncomingReceiptView[];
  @ApiProperty({
    minimum: 0,
    description:
      'Units promised out of the incoming receipts to backorders (held, or sold and not received yet); filled, oldest first, as units are received.',
  })
  readonly backordered!: number;
  @ApiProperty({
    minimum: 0,
    maximum: MAX_QUANTITY,
    description:
      'The owner announces `stock.low` on the stock-alerts topic when `available` drops below it, and `stock.back-in-stock` when it is back at or above it (docs/events.md, "Stock alerts"); 0: no alerts.',
  })
  readonly lowStockThreshold!: number;
  @ApiProperty({ description: 'Whether the row was last announced low (`stock.low`, not yet followed by `stock.back-in-stock`).' })
  readonly lowStock!: boolean;
  @ApiProperty({ description: 'Bumped by the owner on every change.' }) readonly version!: number;
  @ApiProperty({ format: 'date-time' }) readonly updatedAt!: string;
  @ApiProperty({ example: 'eu-west', description: 'The region that produced this answer.' }) readonly servedBy!: string;
}

/** One entry of the stock movement ledger. */
export class MovementView {
  @ApiProperty({ format: 'uuid' }) readonly id!: string;
  @ApiProperty({ description: 'Position in the ledger of this database; use as the `before` cursor.' }) readonly seq!: string;
  @ApiProperty() readonly warehouseId!: string;
  @ApiProperty() readonly sku!: string;
  @ApiProperty({ enum: ['set', 'adjustment', 'hold', 'commit', 'release', 'transfer-out', 'transfer-in', 'transfer-return'] })
  readonly kind!: MovementKind;
  @ApiProperty({ description: 'Change of on-hand.' }) readonly delta!: number;
  @ApiProperty({
    enum: [...ADJUSTMENT_REASONS, 'safety-stock', 'low-stock-threshold', 'incoming', 'incoming-cancelled', 'backorder'],
    description:
      '`safety-stock`: a count that set the safety stock and no on-hand; `low-stock-threshold`: one that set only the low-stock threshold; `incoming` and `incoming-cancelled`: an incoming receipt announced (or changed) and cancelled (delta 0); `received`: units of a receipt, or an adjustment; `backorder`: units received that filled backorders (a `commit` of those that shipped to sold backorders, else a `hold` of 0).',
  })
  readonly reason!: string;
  @ApiProperty() readonly onHandAfter!: number;
  @ApiProperty() readonly reservedAfter!: number;
  @ApiProperty({ description: 'The safety stock of the row after this change.' }) readonly safetyStockAfter!: number;
  @ApiProperty({ description: 'Version of the row after this change.' }) readonly version!: number;
  @ApiProperty({
    example: 'key 3f9a0c1e2b4d5e6f (wms)',
    description:
      'Who made the change: `key <id> (<name>)` of the API key, `reservation:<id>` or `transfer:<id>`, or the sender of a Kafka command.',
  })
  readonly actor!: string;
  @ApiProperty({ type: String, nullable: true }) readonly requestId!: string | null;
  @ApiProperty({ type: String, nullable: true }) readonly idempotencyKey!: string | null;
  @ApiProperty({ format: 'date-time' }) readonly createdAt!: string;
}

/** The answer to a change: the row after it, and the ledger entry it made. */
export class StockChangeView extends StockView {
  @ApiProperty({ type: MovementView }) readonly movement!: MovementView;
}

/**
 * A ledger entry as anyone who may read the row sees it: without the Idempotency-Key, which
 * belongs to the caller who made the change (it is in that caller's own answer, `movement`).
 */
export class LedgerEntryView extends OmitType(MovementView, ['idempotencyKey'] as const) {}

export class MovementPageView {
  @ApiProperty({ type: [LedgerEntryView], description: 'Newest first.' }) readonly items!: LedgerEntryView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `before` for the next page; null on the last page.' })
  readonly nextBefore!: string | null;
}
