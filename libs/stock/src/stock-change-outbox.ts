import { Injectable } from '@nestjs/common';
import type { SqlTx } from '@stockmesh/persistence';
import { OutboxRepository, type OutboxEntry } from '@stockmesh/replication';
import { lowStockTransition } from './stock-alerts/low-stock.js';
import { stockAlertEntry, stockChangedEntry } from './stock-events.js';
import { StockRepository, type OwnStockRecord, type StockKey } from './stock.repository.js';
import type { MovementView } from './stock.views.js';

/** One change of an owned row, made in the caller's transaction (which holds the row's lock). */
export interface OwnRowChange {
  /** The row as the change left it (as the statement that wrote it returned it). */
  readonly record: OwnStockRecord;
  readonly shard: number;
  /** The ledger entry of the change (the last one, when several changes of the row go in one event). */
  readonly movement: MovementView;
  readonly requestId: string | null;
  /** The change's trace when it is not the current request's (a hold of a group-committed batch). */
  readonly traceparent?: string;
}

/**
 * The one place where the changes of owned rows become events: every writer (counts,
 * adjustments, batches, holds and their batches, commits, releases, expiries, transfers) hands
 * its changed rows here, in its transaction. Each row gets its `stock.changed` event; a row that
 * crossed its low-stock threshold also gets its alert (lowStockTransition), and the crossing is
 * stored on the row in the same transaction, so it is announced once, by the owner only.
 */
@Injectable()
export class StockChangeOutbox {
  constructor(
    private readonly repository: StockRepository,
    private readonly outbox: OutboxRepository,
  ) {}

  /**
   * Writes the events of `changes`, each row at most once per call. A row changed twice in one
   * transaction (a partial commit) is handed over once per change, in order, each record read
   * after the previous call: its `lowStock` is then what that call stored. Returns the records
   * with `lowStock` as now stored, in order.
   */
  async append(tx: SqlTx, changes: readonly OwnRowChange[], options: { readonly alerts?: boolean } = {}): Promise<OwnStockRecord[]> {
    return this.write(tx, changes, { events: true, alerts: options.alerts ?? true });
  }

  /**
   * Decides and writes the alerts of `changes` alone, their `stock.changed` events written
   * already by an `append` without alerts: for a change whose first state must not be judged
   * before the same transaction changes the row again (a receipt that may fill backorders).
   */
  async appendAlerts(tx: SqlTx, changes: readonly OwnRowChange[]): Promise<OwnStockRecord[]> {
    return this.write(tx, changes, { events: false, alerts: true });
  }

  private async write(
    tx: SqlTx,
    changes: readonly OwnRowChange[],
    what: { readonly events: boolean; readonly alerts: boolean },
  ): Promise<OwnStockRecord[]> {
    const entries: OutboxEntry[] = [];
    const crossed: (StockKey & { readonly lowStock: boolean })[] = [];
    const records = changes.map(({ record, shard, movement, requestId, traceparent }) => {
      if (what.events) entries.push(withTrace(stockChangedEntry(record, shard, movement, requestId), traceparent));
      if (!what.alerts) return record;
      const { lowStock, alert } = lowStockTransition(record);
      if (alert) entries.push(withTrace(stockAlertEntry(alert, record, shard, movement, requestId), traceparent));
      if (lowStock === record.lowStock) return record;
      crossed.push({ warehouseId: record.warehouseId, sku: record.sku, lowStock });
      return { ...record, lowStock };
    });
    await this.repository.markLowStock(tx, crossed);
    await this.outbox.append(tx, entries);
    return records;
  }
}

function withTrace(entry: OutboxEntry, traceparent: string | undefined): OutboxEntry {
  return traceparent === undefined
    ? entry
    : { ...entry, record: { ...entry.record, headers: { ...entry.record.headers, ce_traceparent: traceparent } } };
}
