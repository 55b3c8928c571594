import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { EVENT_TYPES, type CloudEvent, type WarehouseChangedData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import { EventAppliers, type EventApplier } from '@stockmesh/replication';
import { CatalogRepository } from './catalog.repository.js';

/** Applies other regions' warehouse registrations to this region's catalog. */
@Injectable()
export class WarehouseEventApplier implements EventApplier<typeof EVENT_TYPES.warehouseChanged>, OnModuleInit {
  readonly type = EVENT_TYPES.warehouseChanged;
  private readonly logger = new Logger(WarehouseEventApplier.name);

  constructor(
    private readonly appliers: EventAppliers,
    private readonly repository: CatalogRepository,
  ) {}

  onModuleInit(): void {
    this.appliers.register(this);
  }

  async apply(tx: SqlTx, event: CloudEvent<typeof EVENT_TYPES.warehouseChanged, WarehouseChangedData>): Promise<void> {
    const outcome = await this.repository.applyReplica(tx, event.data);
    if (outcome === 'conflict') {
      // Two regions registered the same id: the first registration seen here keeps it.
      this.logger.warn({
        msg: 'warehouse id registered by two regions; keeping the one known here',
        warehouseId: event.data.id,
        from: event.data.region,
      });
    }
  }
}
