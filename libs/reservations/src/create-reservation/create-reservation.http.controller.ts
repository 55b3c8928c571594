import { Body, Controller, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiHeader, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { ChannelsService } from '@stockmesh/catalog';
import { RESERVATION_TTL } from '@stockmesh/contracts';
import { IDEMPOTENT_BODY_PROBLEMS, Idempotency, idempotentAnswer, Principal, type RequestPrincipal } from '@stockmesh/http';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { ReservationErrorCode, ReservationException } from '../reservation.exception.js';
import { ReservationView } from '../reservation.views.js';
import { ReservationsService } from '../reservations.service.js';
import { CreateReservationRequest } from './create-reservation.request.dto.js';

@ApiTags('reservations')
@Controller('v1/reservations')
export class CreateReservationHttpController {
  constructor(
    private readonly reservations: ReservationsService,
    private readonly channels: ChannelsService,
  ) {}

  /**
   * Holds every line, or nothing. This region coordinates the reservation: lines without a
   * warehouse are allocated from its global view, its own warehouses first. A line of a kit holds
   * its components.
   */
  @Post()
  @ScopedOperation('reservations:write', {
    operationId: 'createReservation',
    summary: 'Reserve stock',
    problems: [
      ...IDEMPOTENT_BODY_PROBLEMS,
      'idempotency-key-required',
      'warehouse-not-found',
      'unknown-channel',
      'warehouse-outside-channel',
      'channel-forbidden',
      'insufficient-stock',
      'reservation-too-large',
      'reservation-in-progress',
    ],
  })
  @ApiHeader({ name: 'Idempotency-Key', required: true })
  @ApiCreatedResponse({ type: ReservationView })
  @ApiConflictResponse({
    description:
      'insufficient-stock: a line cannot be held; `lines` says, per line, what was asked and what is available. Nothing is held.',
  })
  async create(
    @Body() body: CreateReservationRequest,
    @Idempotency() idempotent: IdempotentRequest | undefined,
    @Principal() creator: RequestPrincipal,
  ): Promise<Response> {
    if (!idempotent) throw new ReservationException(ReservationErrorCode.KeyRequired, 'a reservation needs an Idempotency-Key header');
    const answer = await this.reservations.create(
      {
        lines: body.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, ...(l.warehouseId ? { warehouseId: l.warehouseId } : {}) })),
        ttlSeconds: body.ttlSeconds ?? RESERVATION_TTL.default,
        reference: body.reference ?? null,
        allowSplit: body.allowSplit ?? true,
        allowBackorder: body.allowBackorder ?? false,
        // The key's channel, or the one named; refused here (422, 403) before anything is stored.
        channel: (await this.channels.forRequest(body.channel, creator)) ?? null,
      },
      idempotent,
      creator,
    );
    return idempotentAnswer(answer);
  }
}
