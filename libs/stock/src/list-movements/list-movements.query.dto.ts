import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export class ListMovementsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  readonly limit: number = 50;

  @ApiPropertyOptional({ description: 'Cursor: the `nextBefore` of the previous page.' })
  @IsOptional()
  @Matches(/^[1-9]\d{0,17}$/, { message: 'before must be a cursor returned as nextBefore' })
  readonly before?: string;
}
