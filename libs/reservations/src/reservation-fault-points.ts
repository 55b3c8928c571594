import { Injectable } from '@nestjs/common';

/** Where in a saga a test can step in. */
export type SagaFaultPoint = 'before-hold' | 'after-hold';

/** The saga step at a fault point. */
export interface SagaStep {
  readonly reservationId: string;
  readonly reference: string | null;
  readonly allocationNo: number;
  /** The region owning the warehouse of the hold. */
  readonly region: string;
}

export type SagaFaultHandler = (point: SagaFaultPoint, step: SagaStep) => Promise<void>;

/**
 * Points in the reservation saga where a test can inject a fault: move the clock, run recovery
 * as another instance would, or throw to stop the saga as a crashed process would (nothing after
 * the point runs, and nothing is compensated). Does nothing unless a test installs a handler on
 * the application's instance; production code never does.
 */
@Injectable()
export class ReservationFaultPoints {
  private handler?: SagaFaultHandler;

  install(handler: SagaFaultHandler): void {
    this.handler = handler;
  }

  remove(): void {
    this.handler = undefined;
  }

  async reach(point: SagaFaultPoint, step: SagaStep): Promise<void> {
    if (this.handler) await this.handler(point, step);
  }
}
