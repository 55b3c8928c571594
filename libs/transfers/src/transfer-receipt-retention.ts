import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { RetentionSweeper } from '@stockmesh/persistence';
import { TransferRepository } from './transfer.repository.js';

/** Gives settled transfers' receipts to the retention sweeper: they live next to the SKU's rows, in every database. */
@Injectable()
export class TransferReceiptRetention implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly retention: RetentionSweeper,
    private readonly repository: TransferRepository,
  ) {}

  onModuleInit(): void {
    this.retention.register({
      name: 'transfer_receipts',
      databases: 'all',
      retentionMs: this.config.retention.transferReceiptsMs,
      prune: (tx, cutoff, limit) => this.repository.pruneReceipts(tx, cutoff, limit),
    });
  }
}
