import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { EVENT_TYPES, type CloudEvent, type TransferDispatchedData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import { EventAppliers, type EventApplier } from '@stockmesh/replication';
import { isDestination } from '../transfer-events.js';
import { TransfersService } from '../transfers.service.js';

/** The destination's owner adds the units of a transfer dispatched to it; other regions ignore it. */
@Injectable()
export class TransferDispatchedApplier implements EventApplier<typeof EVENT_TYPES.transferDispatched>, OnModuleInit {
  readonly type = EVENT_TYPES.transferDispatched;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly appliers: EventAppliers,
    private readonly transfers: TransfersService,
  ) {}

  onModuleInit(): void {
    this.appliers.register(this);
  }

  async apply(tx: SqlTx, event: CloudEvent<typeof EVENT_TYPES.transferDispatched, TransferDispatchedData>): Promise<void> {
    if (isDestination(event, this.config.region.id)) await this.transfers.receive(tx, event.data, event.correlationid ?? null);
  }
}
