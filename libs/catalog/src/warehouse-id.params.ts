import { ApiProperty } from '@nestjs/swagger';
import { IDENTIFIER_PATTERN } from '@stockmesh/contracts';
import { Matches } from 'class-validator';

export class WarehouseIdParams {
  @ApiProperty({ pattern: IDENTIFIER_PATTERN.source, example: 'fra-1' })
  @Matches(IDENTIFIER_PATTERN, { message: `warehouseId must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit` })
  readonly warehouseId!: string;
}
