import { RESERVATION_ID_PATTERN } from '@stockmesh/contracts';
import { Matches } from 'class-validator';

/**
 * The data of `io.stockmesh.reservation.commit.v1` and `...release.v1`: `{ reservationId }`,
 * with the rule of the `{id}` path parameter of `POST /v1/reservations/{id}/commit` and `/release`.
 */
export class ReservationCommand {
  @Matches(RESERVATION_ID_PATTERN, { message: 'reservationId must be <region>.<uuid>' })
  readonly reservationId!: string;
}
