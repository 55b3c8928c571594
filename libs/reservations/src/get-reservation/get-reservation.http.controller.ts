import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { RouteToOwner } from '@stockmesh/http';
import { ReservationIdParams } from '../reservation-id.params.js';
import { ReservationView } from '../reservation.views.js';
import { ReservationsService } from '../reservations.service.js';

@ApiTags('reservations')
@Controller('v1/reservations/:id')
export class GetReservationHttpController {
  constructor(private readonly reservations: ReservationsService) {}

  /** Any region answers: the call is forwarded to the region the id names. */
  @Get()
  @ScopedOperation('reservations:write', {
    operationId: 'getReservation',
    summary: 'Get a reservation',
    problems: ['validation-failed', 'reservation-not-found'],
  })
  @RouteToOwner({ reservationParam: 'id' })
  @ApiOkResponse({ type: ReservationView })
  get(@Param() params: ReservationIdParams): Promise<ReservationView> {
    return this.reservations.get(params.id);
  }
}
