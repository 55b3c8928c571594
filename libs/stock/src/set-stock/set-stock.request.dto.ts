import { ApiProperty } from '@nestjs/swagger';
import { MAX_QUANTITY } from '@stockmesh/contracts';
import { IsInt, Max, Min } from 'class-validator';

/** `PUT /v1/warehouses/{warehouseId}/stock/{sku}`: the counted quantity. */
export class SetStockRequest {
  @ApiProperty({ minimum: 0, maximum: MAX_QUANTITY, example: 120 })
  @IsInt()
  @Min(0)
  @Max(MAX_QUANTITY)
  readonly onHand!: number;
}
