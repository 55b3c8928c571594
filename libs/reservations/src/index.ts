export { candidatesFor, quantityToAsk, type Candidate, type WarehouseStock } from './allocation-policy.js';
export { ReservationSweeper } from './reservation-sweeper.service.js';
export { ReservationErrorCode, ReservationException } from './reservation.exception.js';
export { AllocationView, LineShortfallView, ReservationView } from './reservation.views.js';
export { ReservationsModule } from './reservations.module.js';
export { ReservationsService, type NewReservation } from './reservations.service.js';
