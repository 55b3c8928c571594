// Reads what the checker judges straight from every region's databases: the owner rows and their
// full ledgers, the replicas, holds, reservations, transfers and receipts. The chaos run is the
// cluster's auditor, so it reads the tables themselves rather than asking the service that is
// under test to describe itself.
import type { ClusterConfig } from '@stockmesh/config';
import pg from 'pg';
import type {
  AllocationRow,
  ClusterSnapshot,
  HoldRow,
  LedgerEntry,
  ReceiptRow,
  ReplicaRow,
  ReservationRow,
  StockRow,
  TransferRow,
} from './chaos-history.js';

type Row = Record<string, unknown>;

const num = (value: unknown): number => Number(value);
const str = (value: unknown): string => String(value);
const time = (value: unknown): number | null => (value instanceof Date ? value.getTime() : null);

/** Runs the statements one after the other on one connection: the server is shared, and its connections are few. */
async function queryAll(url: string, statements: readonly string[]): Promise<Row[][]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, statement_timeout: 30_000 });
  await client.connect();
  try {
    const results: Row[][] = [];
    for (const sql of statements) results.push((await client.query<Row>(sql)).rows);
    return results;
  } finally {
    await client.end();
  }
}

/** Everything the checker needs, read from every database of every region. */
export async function readSnapshot(config: ClusterConfig, now: () => number = Date.now): Promise<ClusterSnapshot> {
  const stock: StockRow[] = [];
  const replicas: ReplicaRow[] = [];
  const ledger: LedgerEntry[] = [];
  const holds: HoldRow[] = [];
  const reservations: ReservationRow[] = [];
  const transfers: TransferRow[] = [];
  const receipts: ReceiptRow[] = [];
  const outboxPending: Record<string, number> = {};
  const takenAt = now();
  for (const region of config.regions) {
    outboxPending[region.id] = 0;
    for (const db of region.databases) {
      const [stockRows, replicaRows, ledgerRows, holdRows, reservationRows, allocationRows, transferRows, receiptRows, outbox] =
        await queryAll(db.url, [
          `SELECT warehouse_id, sku, region, on_hand, reserved, version FROM stock`,
          `SELECT warehouse_id, sku, region, on_hand, reserved, version FROM stock_replica`,
          `SELECT seq::text AS seq, warehouse_id, sku, kind, delta, on_hand_after, reserved_after, version, actor, idempotency_key FROM stock_movements`,
          `SELECT id, reservation_id, warehouse_id, sku, quantity, status FROM holds`,
          `SELECT id, status, expires_at FROM reservations`,
          `SELECT reservation_id, allocation_no, sku, warehouse_id, region, quantity, state, target FROM reservation_allocations`,
          `SELECT id, sku, from_warehouse_id, from_region, to_warehouse_id, to_region, quantity, status FROM transfers`,
          `SELECT transfer_id, quantity, outcome FROM transfer_receipts`,
          `SELECT count(*)::int AS n FROM outbox`,
        ]);
      const row = (r: Row): StockRow => ({
        region: str(r.region),
        warehouseId: str(r.warehouse_id),
        sku: str(r.sku),
        onHand: num(r.on_hand),
        reserved: num(r.reserved),
        version: num(r.version),
      });
      stock.push(...stockRows.map(row));
      replicas.push(...replicaRows.map((r) => ({ ...row(r), heldBy: region.id })));
      ledger.push(
        ...ledgerRows.map((r) => ({
          region: region.id,
          database: db.name,
          seq: str(r.seq),
          warehouseId: str(r.warehouse_id),
          sku: str(r.sku),
          kind: str(r.kind),
          delta: num(r.delta),
          onHandAfter: num(r.on_hand_after),
          reservedAfter: num(r.reserved_after),
          version: num(r.version),
          actor: str(r.actor),
          idempotencyKey: r.idempotency_key === null ? null : str(r.idempotency_key),
        })),
      );
      holds.push(
        ...holdRows.map((r) => ({
          ownerRegion: region.id,
          id: str(r.id),
          reservationId: str(r.reservation_id),
          warehouseId: str(r.warehouse_id),
          sku: str(r.sku),
          quantity: num(r.quantity),
          status: str(r.status) as HoldRow['status'],
        })),
      );
      const allocations = new Map<string, AllocationRow[]>();
      for (const r of allocationRows) {
        const list = allocations.get(str(r.reservation_id)) ?? [];
        list.push({
          allocationNo: num(r.allocation_no),
          sku: str(r.sku),
          warehouseId: str(r.warehouse_id),
          region: str(r.region),
          quantity: num(r.quantity),
          state: str(r.state),
          target: r.target === null ? null : str(r.target),
        });
        allocations.set(str(r.reservation_id), list);
      }
      reservations.push(
        ...reservationRows.map((r) => ({
          region: region.id,
          id: str(r.id),
          status: str(r.status),
          expiresAt: time(r.expires_at),
          allocations: (allocations.get(str(r.id)) ?? []).sort((a, b) => a.allocationNo - b.allocationNo),
        })),
      );
      transfers.push(
        ...transferRows.map((r) => ({
          id: str(r.id),
          sku: str(r.sku),
          fromWarehouseId: str(r.from_warehouse_id),
          fromRegion: str(r.from_region),
          toWarehouseId: str(r.to_warehouse_id),
          toRegion: str(r.to_region),
          quantity: num(r.quantity),
          status: str(r.status),
        })),
      );
      receipts.push(
        ...receiptRows.map((r) => ({
          region: region.id,
          transferId: str(r.transfer_id),
          quantity: num(r.quantity),
          outcome: str(r.outcome) as ReceiptRow['outcome'],
        })),
      );
      outboxPending[region.id] += num(outbox[0]?.n);
    }
  }
  return {
    takenAt,
    regions: config.regions.map((r) => r.id),
    stock,
    replicas,
    ledger,
    holds,
    reservations,
    transfers,
    receipts,
    outboxPending,
  };
}
