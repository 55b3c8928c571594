import { Injectable } from '@nestjs/common';
import type { CloudEvent, EventDataMap, EventType } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';

/**
 * Applies one kind of replicated event to the tables of the module that owns them, inside the
 * replicator's transaction (which also stores the consumer position). Must be idempotent: the
 * same event applied twice, or an older one after a newer one, changes nothing.
 */
export interface EventApplier<T extends EventType = EventType> {
  readonly type: T;
  /** `offset`: where the event is in its live topic's partition; absent when read from elsewhere (the state topic). */
  apply(tx: SqlTx, event: CloudEvent<T, EventDataMap[T]>, offset?: bigint): Promise<void>;
}

/** Where modules register their appliers (stock and catalog do, in `onModuleInit`). */
@Injectable()
export class EventAppliers {
  private readonly byType = new Map<string, EventApplier>();

  register<T extends EventType>(applier: EventApplier<T>): void {
    if (this.byType.has(applier.type)) throw new Error(`an applier for ${applier.type} is registered twice`);
    this.byType.set(applier.type, applier as unknown as EventApplier);
  }

  async apply(tx: SqlTx, event: CloudEvent<EventType, EventDataMap[EventType]>, offset?: bigint): Promise<void> {
    const applier = this.byType.get(event.type);
    if (!applier) throw new Error(`no applier for ${event.type}`);
    await applier.apply(tx, event, offset);
  }
}
