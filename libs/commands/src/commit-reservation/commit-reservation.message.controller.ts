import { Injectable } from '@nestjs/common';
import { COMMAND_TYPES, coordinatorOf } from '@stockmesh/contracts';
import { ReservationsService, type ReservationView } from '@stockmesh/reservations';
import type { Command, CommandMessageController } from '../command.js';
import type { ReservationCommand } from '../reservation.command.js';

/** `io.stockmesh.reservation.commit.v1`: the order was placed, at the reservation's coordinator. */
@Injectable()
export class CommitReservationMessageController implements CommandMessageController<ReservationCommand> {
  readonly type = COMMAND_TYPES.commitReservation;

  constructor(private readonly reservations: ReservationsService) {}

  async ownerOf(data: ReservationCommand): Promise<string> {
    return coordinatorOf(data.reservationId);
  }

  subjectOf(data: ReservationCommand): string {
    return `reservations/${data.reservationId}`;
  }

  /**
   * Idempotent by the reservation's state: committing twice answers the committed reservation
   * again. The result may be `committing` (an owner has not answered yet; the region finishes it).
   */
  async execute(command: Command<ReservationCommand>): Promise<ReservationView> {
    return (await this.reservations.commit(command.data.reservationId)).view;
  }
}
