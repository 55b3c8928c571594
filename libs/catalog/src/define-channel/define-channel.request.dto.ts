import { ApiProperty } from '@nestjs/swagger';
import { REGION_ID_PATTERN } from '@stockmesh/config';
import { IDENTIFIER_PATTERN, MAX_CHANNEL_WAREHOUSES } from '@stockmesh/contracts';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsString, Length, Matches } from 'class-validator';

/** `PUT /v1/channels/{channelId}`. */
export class DefineChannelRequest {
  @ApiProperty({ example: 'eu-west', description: 'The region that defines the channel; the request is forwarded there.' })
  @IsString()
  @Matches(REGION_ID_PATTERN, { message: 'region must be a region id such as eu-west' })
  readonly region!: string;

  @ApiProperty({ example: 'Web shop, Europe', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @Matches(/^[^\p{Cc}]*\S[^\p{Cc}]*$/u, { message: 'name must have a visible character and no control characters' })
  readonly name!: string;

  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: MAX_CHANNEL_WAREHOUSES,
    example: ['fra-1', 'nyc-1'],
    description:
      'The warehouses the channel sells from, any region’s, in the order its reservations draw from them; each must be in the catalog.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_CHANNEL_WAREHOUSES)
  @ArrayUnique({ message: 'warehouseIds must not name a warehouse twice' })
  @Matches(IDENTIFIER_PATTERN, {
    each: true,
    message: `each warehouse id must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
  })
  readonly warehouseIds!: string[];
}
