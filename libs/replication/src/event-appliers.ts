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
  /**
   * Applies many events in one go (set-based SQL), with the outcome of applying them one by one
   * in order. Optional: without it `EventAppliers.applyAll` calls `apply` for each.
   */
  applyAll?(tx: SqlTx, events: readonly OffsetEvent<T>[]): Promise<void>;
}

/** An event and where it is in its live topic's partition (absent when read from the state topic). */
export interface OffsetEvent<T extends EventType = EventType> {
  readonly event: CloudEvent<T, EventDataMap[T]>;
  readonly offset?: bigint;
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

  /**
   * Applies the events as `apply` would one after the other: each run of consecutive events of one
   * type goes to its applier's `applyAll` when it has one (a replicated batch is usually one run).
   */
  async applyAll(tx: SqlTx, events: readonly OffsetEvent[]): Promise<void> {
    for (let start = 0; start < events.length;) {
      const type = events[start].event.type;
      let end = start + 1;
      while (end < events.length && events[end].event.type === type) end++;
      const applier = this.byType.get(type);
      if (!applier) throw new Error(`no applier for ${type}`);
      const run = events.slice(start, end);
      if (applier.applyAll && run.length > 1) await applier.applyAll(tx, run);
      else for (const { event, offset } of run) await applier.apply(tx, event, offset);
      start = end;
    }
  }
}
