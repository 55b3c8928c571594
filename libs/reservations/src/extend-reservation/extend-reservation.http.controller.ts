import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '@stockmesh/auth';
import { RouteToOwner } from '@stockmesh/http';
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
  @RequireScope('reservations:write')
  @HttpCode(200)
  @RouteToOwner({ reservationParam: 'id' })
  @ApiOkResponse({ type: ReservationView, description: 'Held, with its new `expiresAt` (capped at the maximum lifetime).' })
  @ApiConflictResponse({
    description:
      'reservation-conflict: committed, committing, released or expired (an expired reservation cannot be extended). reservation-hold-lost: an owner no longer has a hold. reservation-in-progress: still being made.',
  })
  @ApiServiceUnavailableResponse({
    description: 'region-unavailable: an owner did not renew its hold in time; the expiry is unchanged. Ask again.',
  })
  extend(@Param() params: ReservationIdParams, @Body() body: ExtendReservationRequest): Promise<ReservationView> {
    return this.reservations.extend(params.id, body.ttlSeconds);
  }
}
