import { ApiProperty } from '@nestjs/swagger';

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
    enum: ['pending', 'completed', 'returned'],
    description:
      'pending: the units left the source and are in transit; completed: the destination added them; returned: the destination could not hold them and they went back to the source.',
  })
  readonly status!: 'pending' | 'completed' | 'returned';
  @ApiProperty({ format: 'date-time' }) readonly createdAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When the status last changed.' }) readonly updatedAt!: string;
}
