import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/** Most rows one page of `GET /v1/warehouses/{warehouseId}/stock` holds. */
export const MAX_STOCK_PAGE = 1_000;

export class ListWarehouseStockQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_STOCK_PAGE, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_STOCK_PAGE)
  readonly limit: number = 100;

  @ApiPropertyOptional({ description: 'Opaque: the `nextCursor` of the previous page.' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor must be a nextCursor returned by this API' })
  readonly cursor?: string;
}
