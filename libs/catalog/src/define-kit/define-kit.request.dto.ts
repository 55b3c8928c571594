import { ApiProperty } from '@nestjs/swagger';
import { REGION_ID_PATTERN } from '@stockmesh/config';
import { IDENTIFIER_PATTERN, MAX_KIT_COMPONENT_QUANTITY, MAX_KIT_COMPONENTS } from '@stockmesh/contracts';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsInt, IsString, Matches, Max, Min, ValidateNested } from 'class-validator';

export class KitComponentRequest {
  @ApiProperty({ pattern: IDENTIFIER_PATTERN.source, example: 'LENS-50' })
  @Matches(IDENTIFIER_PATTERN, { message: `sku must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit` })
  readonly sku!: string;

  @ApiProperty({ minimum: 1, maximum: MAX_KIT_COMPONENT_QUANTITY, example: 1, description: 'Units of the component one kit takes.' })
  @IsInt()
  @Min(1)
  @Max(MAX_KIT_COMPONENT_QUANTITY)
  readonly quantity!: number;
}

/** `PUT /v1/kits/{sku}`. */
export class DefineKitRequest {
  @ApiProperty({ example: 'eu-west', description: 'The region that defines the kit; the request is forwarded there.' })
  @IsString()
  @Matches(REGION_ID_PATTERN, { message: 'region must be a region id such as eu-west' })
  readonly region!: string;

  @ApiProperty({
    type: [KitComponentRequest],
    minItems: 1,
    maxItems: MAX_KIT_COMPONENTS,
    description: 'What one unit of the kit takes: plain SKUs (not kits), none twice, not the kit itself.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_KIT_COMPONENTS)
  @ArrayUnique((c: KitComponentRequest) => c?.sku, { message: 'components must not name a SKU twice' })
  @ValidateNested({ each: true })
  @Type(() => KitComponentRequest)
  readonly components!: KitComponentRequest[];
}
