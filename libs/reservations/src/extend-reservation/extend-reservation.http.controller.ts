import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { BODY_PROBLEMS, RouteToOwner } from '@stockmesh/http';
import { ReservationIdParams } from '../reservation-id.params.js';
import { ReservationView } from '../reservation.views.js';
import { ReservationsService } from '../reservations.service.js';
import { ExtendReservationRequest } from './extend-reservation.request.dto.js';

@ApiTags('reservations')
@Controller('v1/reservations/:id/extend')
export class ExtendReservationHttpController {
  constructor(private readonly reservations: ReservationsService) {}

  /** Holds the units longer (a payment that takes time): the reservation and its holds at every owner. Idempotent. */
  @Post()
  @ScopedOperation('reservations:write', {
    operationId: 'extendReservation',
    summary: 'Extend a held reservation',
    problems: [
      ...BODY_PROBLEMS,
      'reservation-not-found',
      'reservation-conflict',
      'reservation-hold-lost',
      'reservation-in-progress',
      'region-unavailable',
    ],
  })
  @HttpCode(200)
  @RouteToOwner({ reservationParam: 'id' })
  @ApiOkResponse({ type: ReservationView, description: 'Held, with its new `expiresAt` (capped at the maximum lifetime).' })
  extend(@Param() params: ReservationIdParams, @Body() body: ExtendReservationRequest): Promise<ReservationView> {
    return this.reservations.extend(params.id, body.ttlSeconds);
  }
}
