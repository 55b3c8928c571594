import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '@stockmesh/config';
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
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly transfers: TransfersService,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over the transfers due at `now` (default: the clock's time). */
  async reconcile(now: Date = new Date(this.clock.now())): Promise<ReconcileReport> {
    const report = await this.transfers.reconcile(now);
    if (report.due > 0) this.logger.log({ msg: 'reconciled overdue transfers', ...report });
    return report;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.reconcile()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn({ msg: 'transfer reconciliation failed; retrying', err: (error as Error).message }))
        .finally(() => this.schedule());
    }, PASS_MS);
    this.timer.unref();
  }
}
