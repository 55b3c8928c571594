import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** Most dead letters one answer of `GET /v1/dead-letters` holds. */
export const MAX_DEAD_LETTERS = 200;

export class ListDeadLettersQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_DEAD_LETTERS, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_DEAD_LETTERS)
  readonly limit: number = 50;
}
