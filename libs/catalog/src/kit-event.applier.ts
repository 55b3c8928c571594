import { Injectable, type OnModuleInit } from '@nestjs/common';
import { EVENT_TYPES, PoisonEventError, type CloudEvent, type KitChangedData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import { EventAppliers, type EventApplier } from '@stockmesh/replication';
import { KitRepository } from './kit.repository.js';

/**
 * Applies other regions' kits to this region's catalog. Its components need not have stock here
 * yet: a kit only ever reads and holds the component rows a region holds.
 */
@Injectable()
export class KitEventApplier implements EventApplier<typeof EVENT_TYPES.kitChanged>, OnModuleInit {
  readonly type = EVENT_TYPES.kitChanged;

  constructor(
    private readonly appliers: EventAppliers,
    private readonly repository: KitRepository,
  ) {}

  onModuleInit(): void {
    this.appliers.register(this);
  }

  async apply(tx: SqlTx, event: CloudEvent<typeof EVENT_TYPES.kitChanged, KitChangedData>): Promise<void> {
    const outcome = await this.repository.applyReplica(tx, event.data);
    if (outcome.kind === 'conflict') {
      // Like a channel, a kit belongs to the region that defined it first here; another region
      // defining the same SKU goes to the dead-letter topic with the reason.
      throw new PoisonEventError(`kit ${event.data.sku} is defined by ${outcome.region}; ${event.data.region} may not change it`);
    }
  }
}
