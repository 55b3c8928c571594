import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { EVENT_TYPES, type CloudEvent, type TransferReceivedData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import { EventAppliers, type EventApplier } from '@stockmesh/replication';
import { isSource } from '../transfer-events.js';
import { TransfersService } from '../transfers.service.js';

/** The source's owner settles its transfer once the destination reports it; other regions ignore it. */
@Injectable()
export class TransferReceivedApplier implements EventApplier<typeof EVENT_TYPES.transferReceived>, OnModuleInit {
  readonly type = EVENT_TYPES.transferReceived;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly appliers: EventAppliers,
    private readonly transfers: TransfersService,
  ) {}

  onModuleInit(): void {
    this.appliers.register(this);
  }

  async apply(tx: SqlTx, event: CloudEvent<typeof EVENT_TYPES.transferReceived, TransferReceivedData>): Promise<void> {
    if (isSource(event, this.config.region.id)) await this.transfers.settle(tx, event.data);
  }
}
