import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { TRANSFER_STATUSES, type TransferStatus } from '../transfer.repository.js';

/** Most transfers one page of `GET /v1/transfers` holds. */
export const MAX_TRANSFERS_PAGE = 500;

export class ListTransfersQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_TRANSFERS_PAGE, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_TRANSFERS_PAGE)
  readonly limit: number = 50;

  @ApiPropertyOptional({ enum: TRANSFER_STATUSES, description: 'Only transfers in this state.' })
  @IsOptional()
  @IsIn(TRANSFER_STATUSES, { message: `status must be one of ${TRANSFER_STATUSES.join(', ')}` })
  readonly status?: TransferStatus;

  @ApiPropertyOptional({ description: 'Opaque: the `nextCursor` of the previous page.' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,300}$/, { message: 'cursor must be a nextCursor returned by this API' })
  readonly cursor?: string;
}
