import { ApiProperty } from '@nestjs/swagger';
import { IDENTIFIER_PATTERN } from '@stockmesh/contracts';
import { Matches } from 'class-validator';

export class KitSkuParams {
  @ApiProperty({ pattern: IDENTIFIER_PATTERN.source, example: 'CAMERA-KIT' })
  @Matches(IDENTIFIER_PATTERN, { message: `sku must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit` })
  readonly sku!: string;
}
