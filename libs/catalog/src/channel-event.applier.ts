import { Injectable, type OnModuleInit } from '@nestjs/common';
import { EVENT_TYPES, PoisonEventError, type ChannelChangedData, type CloudEvent } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import { EventAppliers, type EventApplier } from '@stockmesh/replication';
import { ChannelRepository } from './channel.repository.js';

/**
 * Applies other regions' sales channels to this region's catalog. The warehouses a channel names
 * need not be known here yet (their registrations may still be on their way): a channel only
 * ever selects among the stock rows a region holds.
 */
@Injectable()
export class ChannelEventApplier implements EventApplier<typeof EVENT_TYPES.channelChanged>, OnModuleInit {
  readonly type = EVENT_TYPES.channelChanged;

  constructor(
    private readonly appliers: EventAppliers,
    private readonly repository: ChannelRepository,
  ) {}

  onModuleInit(): void {
    this.appliers.register(this);
  }

  async apply(tx: SqlTx, event: CloudEvent<typeof EVENT_TYPES.channelChanged, ChannelChangedData>): Promise<void> {
    const outcome = await this.repository.applyReplica(tx, event.data);
    if (outcome.kind === 'conflict') {
      // Like a warehouse, a channel belongs to the region that defined it first here; another
      // region defining the same id goes to the dead-letter topic with the reason.
      throw new PoisonEventError(`channel ${event.data.id} is defined by ${outcome.region}; ${event.data.region} may not change it`);
    }
  }
}
