import { Injectable } from '@nestjs/common';
import { COMMAND_TYPES, coordinatorOf } from '@stockmesh/contracts';
import { ReservationsService, type ReservationView } from '@stockmesh/reservations';
import type { Command, CommandMessageController } from '../command.js';
import type { ReservationCommand } from '../reservation.command.js';

/** `io.stockmesh.reservation.release.v1`: the order was cancelled, at the reservation's coordinator. */
@Injectable()
export class ReleaseReservationMessageController implements CommandMessageController<ReservationCommand> {
  readonly type = COMMAND_TYPES.releaseReservation;

  constructor(private readonly reservations: ReservationsService) {}

  async ownerOf(data: ReservationCommand): Promise<string> {
    return coordinatorOf(data.reservationId);
  }

  subjectOf(data: ReservationCommand): string {
    return `reservations/${data.reservationId}`;
  }

  /** Idempotent by the reservation's state: releasing twice answers the released reservation again. */
  execute(command: Command<ReservationCommand>): Promise<ReservationView> {
    return this.reservations.release(command.data.reservationId);
  }
}
