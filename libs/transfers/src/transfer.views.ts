import { ApiProperty } from '@nestjs/swagger';
import type { TransferStatus } from './transfer.repository.js';

/** A transfer as its source region records it. */
export class TransferView {
  @ApiProperty({ example: 'us-east.0f8fad5b-d9cb-469f-a165-70867728950e', description: '<source region>.<uuid>' })
  readonly id!: string;
  @ApiProperty({ example: 'SKU-1' }) readonly sku!: string;
  @ApiProperty({ example: 'nyc-1' }) readonly fromWarehouseId!: string;
  @ApiProperty({ example: 'us-east', description: 'The region owning the source warehouse; it records the transfer.' })
  readonly fromRegion!: string;
  @ApiProperty({ example: 'fra-1' }) readonly toWarehouseId!: string;
  @ApiProperty({ example: 'eu-west' }) readonly toRegion!: string;
  @ApiProperty({ minimum: 1 }) readonly quantity!: number;
  @ApiProperty({
    enum: ['pending', 'completed', 'returned', 'cancelled', 'failed'],
    description:
      'pending: the units left the source and are in transit; completed: the destination added them; returned: the destination could not hold them and they went back to the source; cancelled: the destination never received them (cancelled on request, or not received within the timeout) and they went back to the source; failed: neither the destination nor the source row could hold them, and they were written off.',
  })
  readonly status!: TransferStatus;
  @ApiProperty({
    required: false,
    example: 'not received within 900000 ms',
    description: 'Why the transfer is cancelled or failed; absent otherwise.',
  })
  readonly statusReason?: string;
  @ApiProperty({ format: 'date-time' }) readonly createdAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When the status last changed.' }) readonly updatedAt!: string;
}
