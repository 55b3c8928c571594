import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiConflictResponse, ApiOkResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { BODY_PROBLEMS, idempotentAnswer, RouteToOwner } from '@stockmesh/http';
import { ReservationIdParams } from '../reservation-id.params.js';
import { ReservationView } from '../reservation.views.js';
import { ReservationsService } from '../reservations.service.js';
import { CommitReservationRequest } from './commit-reservation.request.dto.js';

@ApiTags('reservations')
@Controller('v1/reservations/:id/commit')
export class CommitReservationHttpController {
  constructor(private readonly reservations: ReservationsService) {}

  /**
   * The order is placed: every owner commits its hold, and the units leave on-hand and reserved; or,
   * with `lines`, only the units they name (the rest are released). Idempotent: the first commit decides.
   */
  @Post()
  @ScopedOperation('reservations:write', {
    operationId: 'commitReservation',
    summary: 'Commit a reservation',
    // Its body (a partial commit's lines) is optional, but when sent it is refused like any other.
    problems: [...BODY_PROBLEMS, 'reservation-not-found', 'reservation-conflict', 'reservation-hold-lost', 'reservation-commit-invalid'],
  })
  @HttpCode(200)
  @ApiBody({ type: CommitReservationRequest, required: false })
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
  @ApiUnprocessableEntityResponse({
    description: 'reservation-commit-invalid: the lines name more units than the reservation holds (of a SKU, or in a warehouse), or none.',
  })
  async commit(@Param() params: ReservationIdParams, @Body() body: CommitReservationRequest = {}): Promise<Response> {
    const { status, view } = await this.reservations.commit(params.id, body.lines);
    return idempotentAnswer({ status, body: view, replayed: false });
  }
}
