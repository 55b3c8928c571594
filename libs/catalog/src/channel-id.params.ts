import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IDENTIFIER_PATTERN } from '@stockmesh/contracts';
import { IsOptional, Matches } from 'class-validator';

const CHANNEL_ID_MESSAGE = `channel must be a channel id: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`;

export class ChannelIdParams {
  @ApiProperty({ pattern: IDENTIFIER_PATTERN.source, example: 'web-eu' })
  @Matches(IDENTIFIER_PATTERN, { message: `channelId must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit` })
  readonly channelId!: string;
}

/** An optional `channel` field of a query or body: a sales channel id, described as `description` says. */
export function OptionalChannelField(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ pattern: IDENTIFIER_PATTERN.source, example: 'web-eu', description }),
    IsOptional(),
    Matches(IDENTIFIER_PATTERN, { message: CHANNEL_ID_MESSAGE }),
  );
}
