import { Injectable, type OnModuleInit } from '@nestjs/common';
import { EVENT_TYPES, PoisonEventError, type CloudEvent, type WarehouseChangedData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import { EventAppliers, type EventApplier } from '@stockmesh/replication';
import { CatalogRepository } from './catalog.repository.js';

/** Applies other regions' warehouse registrations to this region's catalog; refuses any that moves a warehouse. */
@Injectable()
export class WarehouseEventApplier implements EventApplier<typeof EVENT_TYPES.warehouseChanged>, OnModuleInit {
  readonly type = EVENT_TYPES.warehouseChanged;

  constructor(
    private readonly appliers: EventAppliers,
    private readonly repository: CatalogRepository,
  ) {}

  onModuleInit(): void {
    this.appliers.register(this);
  }

  async apply(tx: SqlTx, event: CloudEvent<typeof EVENT_TYPES.warehouseChanged, WarehouseChangedData>): Promise<void> {
    const outcome = await this.repository.applyReplica(tx, event.data);
    if (outcome.kind === 'conflict') {
      // A warehouse's region never changes: either two regions registered the same id (the first
      // registration seen here keeps it) or a region claims another's warehouse. Either way the
      // event goes to the dead-letter topic with the reason.
      throw new PoisonEventError(
        `warehouse ${event.data.id} belongs to ${outcome.region}; ${event.data.region} may not register it (a warehouse never changes region)`,
      );
    }
  }
}
