import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { BODY_PROBLEMS, RouteToOwner } from '@stockmesh/http';
import { ReservationIdParams } from '../reservation-id.params.js';
import { ReservationView } from '../reservation.views.js';
import { ReservationsService } from '../reservations.service.js';

@ApiTags('reservations')
@Controller('v1/reservations/:id/release')
export class ReleaseReservationHttpController {
  constructor(private readonly reservations: ReservationsService) {}

  /** The units return to available. Idempotent. */
  @Post()
  @ScopedOperation('reservations:write', {
    operationId: 'releaseReservation',
    summary: 'Release a reservation',
    problems: [...BODY_PROBLEMS, 'reservation-not-found', 'reservation-conflict'],
  })
  @HttpCode(200)
  @RouteToOwner({ reservationParam: 'id' })
  @ApiOkResponse({ type: ReservationView })
  @ApiConflictResponse({ description: 'reservation-conflict: the reservation was committed or has expired.' })
  release(@Param() params: ReservationIdParams): Promise<ReservationView> {
    return this.reservations.release(params.id);
  }
}
