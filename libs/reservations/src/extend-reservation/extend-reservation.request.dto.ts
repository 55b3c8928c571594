import { ApiProperty } from '@nestjs/swagger';
import { RESERVATION_TTL } from '@stockmesh/contracts';
import { IsInt, Max, Min } from 'class-validator';

export class ExtendReservationRequest {
  @ApiProperty({
    minimum: RESERVATION_TTL.min,
    maximum: RESERVATION_TTL.max,
    description:
      'Keep the reservation until this many seconds from now (never earlier than it already expires, and never past STOCKMESH_RESERVATION_MAX_LIFETIME_SECONDS after it was made: 3 days by default).',
  })
  @IsInt()
  @Min(RESERVATION_TTL.min)
  @Max(RESERVATION_TTL.max)
  readonly ttlSeconds!: number;
}
