export { candidatesFor, quantityToAsk, reservableStock, type Candidate, type WarehouseStock } from './allocation-policy.js';
export { HoldAuditor, type HoldAuditReport } from './hold-audit/hold-auditor.service.js';
export { ReservationFaultPoints, type SagaFaultHandler, type SagaFaultPoint, type SagaStep } from './reservation-fault-points.js';
export { ReservationSweeper, type SweepReport } from './reservation-sweeper.service.js';
export { ReservationErrorCode, ReservationException } from './reservation.exception.js';
export { ReservationRepository, type NewAllocation } from './reservation.repository.js';
export { AllocationView, LineShortfallView, ReservationView } from './reservation.views.js';
export { ReservationsModule } from './reservations.module.js';
export {
  FINISH_BATCH,
  ReservationsService,
  type ClosedReservation,
  type FinishReport,
  type NewReservation,
} from './reservations.service.js';
