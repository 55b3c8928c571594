import { Module } from '@nestjs/common';
import { StockModule } from '@stockmesh/stock';
import { CommitReservationHttpController } from './commit-reservation/commit-reservation.http.controller.js';
import { CreateReservationHttpController } from './create-reservation/create-reservation.http.controller.js';
import { ExtendReservationHttpController } from './extend-reservation/extend-reservation.http.controller.js';
import { GetReservationHttpController } from './get-reservation/get-reservation.http.controller.js';
import { HoldAuditor } from './hold-audit/hold-auditor.service.js';
import { HoldVerdictsInternalController } from './hold-audit/hold-verdicts.internal.controller.js';
import { HoldVerdicts } from './hold-audit/hold-verdicts.service.js';
import { HoldClient } from './hold-client.js';
import { ReleaseReservationHttpController } from './release-reservation/release-reservation.http.controller.js';
import { ReservationFaultPoints } from './reservation-fault-points.js';
import { ReservationRetention } from './reservation-retention.js';
import { ReservationSweeper } from './reservation-sweeper.service.js';
import { ReservationRepository } from './reservation.repository.js';
import { ReservationsService } from './reservations.service.js';

/** Reservations: the saga that holds a cart's lines, commit, release and expiry. */
@Module({
  imports: [StockModule],
  controllers: [
    CreateReservationHttpController,
    GetReservationHttpController,
    CommitReservationHttpController,
    ExtendReservationHttpController,
    ReleaseReservationHttpController,
    HoldVerdictsInternalController,
  ],
  providers: [
    ReservationRepository,
    HoldClient,
    ReservationFaultPoints,
    ReservationsService,
    ReservationSweeper,
    ReservationRetention,
    HoldVerdicts,
    HoldAuditor,
  ],
  exports: [ReservationsService, HoldAuditor],
})
export class ReservationsModule {}
