import { ApiProperty } from '@nestjs/swagger';
import { IDENTIFIER_PATTERN } from '@stockmesh/contracts';
import { Matches } from 'class-validator';

const rule = `must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`;

/** `{warehouseId}` and `{sku}` of the stock routes. */
export class StockKeyParams {
  @ApiProperty({ pattern: IDENTIFIER_PATTERN.source, example: 'fra-1' })
  @Matches(IDENTIFIER_PATTERN, { message: `warehouseId ${rule}` })
  readonly warehouseId!: string;

  @ApiProperty({ pattern: IDENTIFIER_PATTERN.source, example: 'SKU-1' })
  @Matches(IDENTIFIER_PATTERN, { message: `sku ${rule}` })
  readonly sku!: string;
}
