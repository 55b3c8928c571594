export {
  Metrics,
  type ActivityTotals,
  type DeadLetterConsumer,
  type DeadLetterReason,
  type DeadLetterReplayOutcome,
  type FinishOutcome,
  type HoldTransition,
  type ReservationOutcome,
  type SagaStep,
  type SagaStepOutcome,
} from './metrics.js';
export { MetricsModule } from './metrics.module.js';
