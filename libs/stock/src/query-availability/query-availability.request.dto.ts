import { ApiProperty } from '@nestjs/swagger';
import { OptionalChannelField } from '@stockmesh/catalog';
import { IDENTIFIER_PATTERN } from '@stockmesh/contracts';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, Matches } from 'class-validator';
import { AVAILABILITY_CHANNEL } from '../get-availability/availability-channel.query.dto.js';

/** The most SKUs one availability query may ask for. */
export const MAX_SKUS_PER_QUERY = 500;

export class QueryAvailabilityRequest {
  @ApiProperty({ type: [String], minItems: 1, maxItems: MAX_SKUS_PER_QUERY, example: ['SKU-1', 'SKU-2'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SKUS_PER_QUERY)
  @ArrayUnique()
  @Matches(IDENTIFIER_PATTERN, {
    each: true,
    message: `each SKU must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
  })
  readonly skus!: string[];

  @OptionalChannelField(AVAILABILITY_CHANNEL)
  readonly channel?: string;
}
