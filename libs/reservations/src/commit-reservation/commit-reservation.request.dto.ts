import { ApiPropertyOptional } from '@nestjs/swagger';
import { MAX_RESERVATION_LINES } from '@stockmesh/contracts';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, ValidateNested } from 'class-validator';
import { ReservationLineRequest } from '../create-reservation/create-reservation.request.dto.js';

/** `POST /v1/reservations/{id}/commit`: no body (or no `lines`) commits everything held. */
export class CommitReservationRequest {
  @ApiPropertyOptional({
    type: [ReservationLineRequest],
    minItems: 1,
    maxItems: MAX_RESERVATION_LINES,
    description:
      'A partial commit: only these units leave on-hand (a line with `warehouseId` takes them from that warehouse’s holds, one without from the SKU’s holds in the order they were made); every other held unit is released. Absent: everything held is committed.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_RESERVATION_LINES)
  @ValidateNested({ each: true })
  @Type(() => ReservationLineRequest)
  readonly lines?: ReservationLineRequest[];
}
