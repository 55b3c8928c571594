import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Clock, RepeatingTask } from '@stockmesh/config';
import { TransfersService, type ReconcileReport } from '../transfers.service.js';

/** Pause between passes. A pass with nothing due is one indexed query per database. */
const PASS_MS = 1_000;

/**
 * Ends transfers that stay pending past the timeout (STOCKMESH_TRANSFER_TIMEOUT_MS): their
 * dispatched event was lost, their receipt's event was lost or dead-lettered, or their units wait
 * for room in the source row. Run by every instance of the region: claims use SKIP LOCKED and
 * push each transfer back by its own backoff, so instances share the work and no transfer is
 * handled twice at once. Time comes from the injected clock; tests call `reconcile` with a time.
 */
@Injectable()
export class TransferReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TransferReconciler.name);
  private readonly task = new RepeatingTask(
    () => this.reconcile(),
    PASS_MS,
    (error) => this.logger.warn({ msg: 'transfer reconciliation failed; retrying', err: error.message }),
  );

  constructor(
    private readonly transfers: TransfersService,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** One pass over the transfers due at `now` (default: the clock's time). */
  async reconcile(now: Date = new Date(this.clock.now())): Promise<ReconcileReport> {
    const report = await this.transfers.reconcile(now);
    if (report.due > 0) this.logger.log({ msg: 'reconciled overdue transfers', ...report });
    return report;
  }
}
