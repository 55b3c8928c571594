import { Injectable, type OnModuleInit } from '@nestjs/common';
import { EVENT_TYPES, type CloudEvent, type StockChangedData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import { EventAppliers, type EventApplier, type OffsetEvent } from '@stockmesh/replication';
import { StockReplicaRepository } from './stock-replica.repository.js';

/** Applies other regions' stock changes to this region's replica rows. */
@Injectable()
export class StockEventApplier implements EventApplier<typeof EVENT_TYPES.stockChanged>, OnModuleInit {
  readonly type = EVENT_TYPES.stockChanged;

  constructor(
    private readonly appliers: EventAppliers,
    private readonly replicas: StockReplicaRepository,
  ) {}

  onModuleInit(): void {
    this.appliers.register(this);
  }

  async apply(tx: SqlTx, event: CloudEvent<typeof EVENT_TYPES.stockChanged, StockChangedData>, offset?: bigint): Promise<void> {
    await this.replicas.apply(tx, event.data, event.id, offset);
  }

  async applyAll(tx: SqlTx, events: readonly OffsetEvent<typeof EVENT_TYPES.stockChanged>[]): Promise<void> {
    await this.replicas.applyAll(
      tx,
      events.map(({ event, offset }) => ({ data: event.data, eventId: event.id, offset })),
    );
  }
}
