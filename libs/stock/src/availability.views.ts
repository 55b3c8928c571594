import { ApiProperty } from '@nestjs/swagger';
import { IncomingReceiptView } from './stock.views.js';

export class WarehouseAvailabilityView {
  @ApiProperty() readonly warehouseId!: string;
  @ApiProperty({ description: 'The owning region.' }) readonly region!: string;
  @ApiProperty() readonly onHand!: number;
  @ApiProperty() readonly reserved!: number;
  @ApiProperty({ minimum: 0, description: 'Units storefront reservations leave untouched (may exceed onHand).' })
  readonly safetyStock!: number;
  @ApiProperty({ minimum: 0, description: 'What storefronts may reserve: onHand - reserved - safetyStock, never below 0.' })
  readonly available!: number;
  @ApiProperty({ type: [IncomingReceiptView], description: 'Open incoming receipts of the row, by expected day then id.' })
  readonly incoming!: IncomingReceiptView[];
  @ApiProperty({
    minimum: 0,
    description: 'Units of those receipts promised to backorders already (held or sold, not received yet); the earliest receipts go first.',
  })
  readonly backordered!: number;
  @ApiProperty({ description: 'The row version at its owner.' }) readonly version!: number;
  @ApiProperty({ format: 'date-time', description: 'When the owner last changed the row.' }) readonly updatedAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When this region applied it (its own rows: the same as updatedAt).' })
  readonly appliedAt!: string;
}

export class RegionFreshnessView {
  @ApiProperty() readonly region!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) readonly lastHeartbeatAt!: string | null;
  @ApiProperty({ description: 'No heartbeat recently: its numbers here may be old.' }) readonly stale!: boolean;
  @ApiProperty({ description: 'Its published events not applied here yet.' }) readonly eventsBehind!: number;
  @ApiProperty({ description: 'How far behind in time, in milliseconds.' }) readonly lagMs!: number;
}

export class KitComponentAvailabilityView {
  @ApiProperty() readonly sku!: string;
  @ApiProperty({ description: 'Units of the component one kit takes.' }) readonly quantity!: number;
  @ApiProperty({ minimum: 0, description: 'Units of the component available, summed like a plain SKU’s `available`.' })
  readonly available!: number;
  @ApiProperty({ minimum: 0, description: 'The kits those units make: floor(available / quantity).' }) readonly kits!: number;
}

export class KitWarehouseAvailabilityView {
  @ApiProperty() readonly warehouseId!: string;
  @ApiProperty({ description: 'The owning region.' }) readonly region!: string;
  @ApiProperty({ minimum: 0, description: 'Kits this warehouse can make alone: its scarcest component’s floor(available / quantity).' })
  readonly available!: number;
}

/** A kit's availability: what its components allow. */
export class KitAvailabilityView {
  @ApiProperty({ type: [KitComponentAvailabilityView], description: 'The kit’s components, in its order.' })
  readonly components!: KitComponentAvailabilityView[];
  @ApiProperty({
    type: [KitWarehouseAvailabilityView],
    description: 'Each warehouse that has a row of every component (of the channel, in its order; otherwise by id).',
  })
  readonly warehouses!: KitWarehouseAvailabilityView[];
}

/** Units expected on one day, over the warehouses counted, and what can be promised by then. */
export class IncomingDayView {
  @ApiProperty({ format: 'date', example: '2026-12-24' }) readonly expectedAt!: string;
  @ApiProperty({ minimum: 1, description: 'Units of open receipts expected that day.' }) readonly quantity!: number;
  @ApiProperty({
    minimum: 0,
    description:
      '`available` plus every unit expected up to and including that day and not promised to backorders (which take the earliest receipts): what can be promised for delivery from that day.',
  })
  readonly promisable!: number;
}

/** Global stock of one SKU as this region sees it: its own rows and its replicas. */
export class AvailabilityView {
  @ApiProperty() readonly sku!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'The sales channel the figures are limited to (its warehouses, in its order); null: every warehouse.',
  })
  readonly channel!: string | null;
  @ApiProperty({ description: 'Totals over every warehouse (of the channel, if one is named).' }) readonly onHand!: number;
  @ApiProperty() readonly reserved!: number;
  @ApiProperty({ minimum: 0 }) readonly safetyStock!: number;
  @ApiProperty({ minimum: 0, description: 'Total of the warehouses’ backordered units.' }) readonly backordered!: number;
  @ApiProperty({
    minimum: 0,
    description: "The sum of the warehouses' `available` (each floored at 0), so not always onHand - reserved - safetyStock.",
  })
  readonly available!: number;
  @ApiProperty({
    type: [IncomingDayView],
    description:
      'Incoming stock by expected day over the warehouses counted (of the channel, if one is named), earliest first; empty for a kit. Expected units are not reservable: they are promised, not held.',
  })
  readonly incoming!: IncomingDayView[];
  @ApiProperty({ type: [WarehouseAvailabilityView], description: 'The SKU’s rows; a kit has none (its units are its components).' })
  readonly warehouses!: WarehouseAvailabilityView[];
  @ApiProperty({
    type: KitAvailabilityView,
    nullable: true,
    description:
      'For a kit: its components and the kits each warehouse can make; `available` is then the kits a reservation may hold. null for a plain SKU.',
  })
  readonly kit!: KitAvailabilityView | null;
  @ApiProperty() readonly servedBy!: string;
  @ApiProperty({ type: [RegionFreshnessView], description: 'How fresh each other region’s numbers are here.' })
  readonly freshness!: RegionFreshnessView[];
}

export class AvailabilityListView {
  @ApiProperty({ type: [AvailabilityView], description: 'One entry per requested SKU, in request order.' })
  readonly items!: AvailabilityView[];
}
