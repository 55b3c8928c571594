import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { idempotentAnswer, RouteToOwner } from '@stockmesh/http';
import { ReservationIdParams } from '../reservation-id.params.js';
import { ReservationView } from '../reservation.views.js';
import { ReservationsService } from '../reservations.service.js';

@ApiTags('reservations')
@Controller('v1/reservations/:id/commit')
export class CommitReservationHttpController {
  constructor(private readonly reservations: ReservationsService) {}

  /** The order is placed: every owner commits its hold, and the units leave on-hand and reserved. Idempotent. */
  @Post()
  @ScopedOperation('reservations:write', {
    operationId: 'commitReservation',
    summary: 'Commit a reservation',
    problems: ['validation-failed', 'reservation-not-found', 'reservation-conflict', 'reservation-hold-lost'],
  })
  @HttpCode(200)
  @RouteToOwner({ reservationParam: 'id' })
  @ApiOkResponse({ type: ReservationView, description: 'Every owner committed its hold: `committed`.' })
  @ApiAcceptedResponse({
    type: ReservationView,
    description: '`committing`: an owner did not answer yet; it is asked again in the background. Call again (or GET) for the outcome.',
  })
  @ApiConflictResponse({
    description:
      'reservation-conflict: the reservation was released or has expired. reservation-hold-lost: an owner no longer had its hold; the other holds are committed (`lost`, `allocations`).',
  })
  async commit(@Param() params: ReservationIdParams): Promise<Response> {
    const { status, view } = await this.reservations.commit(params.id);
    return idempotentAnswer({ status, body: view, replayed: false });
  }
}
