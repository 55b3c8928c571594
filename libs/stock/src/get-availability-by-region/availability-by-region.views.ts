import { ApiProperty } from '@nestjs/swagger';
import { AvailabilityView } from '../availability.views.js';

/** One region's own view of a SKU, or why it gave none. */
export class RegionAvailabilityView {
  @ApiProperty() readonly region!: string;
  @ApiProperty({ description: 'Whether the region answered in time with its availability.' }) readonly answered!: boolean;
  @ApiProperty({
    type: AvailabilityView,
    nullable: true,
    description:
      'The SKU as that region sees it, from its own rows and replicas (`GET /v1/availability/{sku}` there); null when it did not answer.',
  })
  readonly availability!: AvailabilityView | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Why the region gave no availability (no answer in time, or its refusal); null when it did.',
  })
  readonly problem!: string | null;
  @ApiProperty({ description: 'How long the region took to answer (or to be given up on), in milliseconds.' }) readonly elapsedMs!: number;
}

/** A SKU as every region of the cluster sees it, side by side. */
export class AvailabilityByRegionView {
  @ApiProperty() readonly sku!: string;
  @ApiProperty({ description: 'The region that asked the others and answered.' }) readonly servedBy!: string;
  @ApiProperty({ format: 'date-time', description: 'When it asked (its clock): the figures’ ages are best read against it.' })
  readonly askedAt!: string;
  @ApiProperty({ type: [RegionAvailabilityView], description: 'Every region of the cluster, in the cluster’s order.' })
  readonly regions!: RegionAvailabilityView[];
}
