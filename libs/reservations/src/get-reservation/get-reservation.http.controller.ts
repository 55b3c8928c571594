import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@stockmesh/auth';
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
  @RequireScope('reservations:write')
  @RouteToOwner({ reservationParam: 'id' })
  @ApiOkResponse({ type: ReservationView })
  get(@Param() params: ReservationIdParams): Promise<ReservationView> {
    return this.reservations.get(params.id);
  }
}
