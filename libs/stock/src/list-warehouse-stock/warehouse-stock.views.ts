import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { RegionFreshnessView } from '../availability.views.js';
import { IncomingReceiptView } from '../stock.views.js';

export class WarehouseStockRowView {
  @ApiProperty({ example: 'SKU-1' }) readonly sku!: string;
  @ApiProperty({ minimum: 0 }) readonly onHand!: number;
  @ApiProperty({ minimum: 0 }) readonly reserved!: number;
  @ApiProperty({ minimum: 0, description: 'Units storefront reservations leave untouched (may exceed onHand).' })
  readonly safetyStock!: number;
  @ApiProperty({ minimum: 0, description: 'onHand - reserved - safetyStock, never below 0' }) readonly available!: number;
  @ApiProperty({ type: [IncomingReceiptView], description: 'Open incoming receipts, by expected day then id.' })
  readonly incoming!: IncomingReceiptView[];
  @ApiProperty({ minimum: 0, description: 'Units of those receipts promised to backorders.' }) readonly backordered!: number;
  @ApiProperty({ description: 'The row version at its owner.' }) readonly version!: number;
  @ApiProperty({ format: 'date-time', description: 'When the owner last changed the row.' }) readonly updatedAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When this region applied it (its own rows: the same as updatedAt).' })
  readonly appliedAt!: string;
}

/** One page of a warehouse's rows, by SKU, as the answering region holds them. */
export class WarehouseStockPageView {
  @ApiProperty({ example: 'fra-1' }) readonly warehouseId!: string;
  @ApiProperty({ example: 'eu-west', description: 'The owning region.' }) readonly region!: string;
  @ApiProperty({
    enum: ['owner', 'replica'],
    description: "`owner`: the owner's own rows; `replica`: this region's copy, as replicated (see `freshness`).",
  })
  readonly source!: 'owner' | 'replica';
  @ApiProperty({ example: 'us-east', description: 'The region that produced this answer.' }) readonly servedBy!: string;
  @ApiPropertyOptional({ type: RegionFreshnessView, description: "How fresh the owner's rows are here; only on a replica." })
  readonly freshness?: RegionFreshnessView;
  @ApiProperty({ type: [WarehouseStockRowView], description: 'By SKU (byte order), ascending.' }) readonly items!: WarehouseStockRowView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page.' })
  readonly nextCursor!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The path and query of the next page; null on the last page.' })
  readonly next!: string | null;
}
