// What a chaos run records (its history: every request, answer and fault, with times) and what it
// reads from the cluster's databases once the cluster has settled (the snapshot). The checker
// (chaos-checker.ts) judges the two together; both are plain data so that it stays pure.

/** The client operations the load drives. `setup` requests are the warehouses and first counts. */
export type Operation = 'register' | 'count' | 'adjust' | 'reserve' | 'commit' | 'release' | 'transfer';

/** One HTTP request and what came back, as one line of the history file. */
export interface RequestRecord {
  readonly type: 'request';
  /** Position in the history, in the order requests were sent. */
  readonly seq: number;
  readonly client: string;
  readonly op: Operation;
  /** The region the request was sent to (it may forward it). */
  readonly region: string;
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey?: string;
  readonly body?: unknown;
  /** Epoch ms. */
  readonly sentAt: number;
  readonly answeredAt: number;
  /** Absent when no answer came (refused connection, timeout): the outcome is unknown. */
  readonly status?: number;
  readonly answer?: unknown;
  readonly error?: string;
}

export type FaultKind = 'kill' | 'pg-terminate' | 'pause' | 'broker-restart' | 'damage-replica';

/** One injected fault, from its start to the moment the system was given back (restarted, resumed). */
export interface FaultRecord {
  readonly type: 'fault';
  readonly seq: number;
  readonly fault: FaultKind;
  /** The region or database hit, or `broker`. */
  readonly target: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly detail: string;
}

export type HistoryRecord = RequestRecord | FaultRecord;

/** One ledger entry (`stock_movements`) of an owner region. */
export interface LedgerEntry {
  readonly region: string;
  readonly database: string;
  readonly seq: string;
  readonly warehouseId: string;
  readonly sku: string;
  readonly kind: string;
  readonly delta: number;
  readonly onHandAfter: number;
  readonly reservedAfter: number;
  readonly version: number;
  readonly actor: string;
  readonly idempotencyKey: string | null;
}

/** A stock row: at its owner (`stock`), or a region's replica of it (`stock_replica`, `heldBy`). */
export interface StockRow {
  readonly region: string;
  readonly warehouseId: string;
  readonly sku: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly version: number;
}

export interface ReplicaRow extends StockRow {
  /** The region whose replica this is. */
  readonly heldBy: string;
}

/** A hold at its owner region. */
export interface HoldRow {
  readonly ownerRegion: string;
  readonly id: string;
  readonly reservationId: string;
  readonly warehouseId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly status: 'held' | 'committed' | 'released';
}

export interface AllocationRow {
  readonly allocationNo: number;
  readonly sku: string;
  readonly warehouseId: string;
  readonly region: string;
  readonly quantity: number;
  readonly state: string;
  readonly target: string | null;
}

/** A reservation at its coordinating region, with its allocations. */
export interface ReservationRow {
  readonly region: string;
  readonly id: string;
  readonly status: string;
  /** Epoch ms, or null while pending. */
  readonly expiresAt: number | null;
  readonly allocations: readonly AllocationRow[];
}

/** A transfer at its source's owner. */
export interface TransferRow {
  readonly id: string;
  readonly sku: string;
  readonly fromWarehouseId: string;
  readonly fromRegion: string;
  readonly toWarehouseId: string;
  readonly toRegion: string;
  readonly quantity: number;
  readonly status: string;
}

/** A transfer the destination's owner settled. */
export interface ReceiptRow {
  readonly region: string;
  readonly transferId: string;
  readonly quantity: number;
  readonly outcome: 'received' | 'refused' | 'cancelled';
}

/** Everything the checker reads from the databases once the cluster has settled. */
export interface ClusterSnapshot {
  /** Epoch ms when it was read. */
  readonly takenAt: number;
  readonly regions: readonly string[];
  readonly stock: readonly StockRow[];
  readonly replicas: readonly ReplicaRow[];
  readonly ledger: readonly LedgerEntry[];
  readonly holds: readonly HoldRow[];
  readonly reservations: readonly ReservationRow[];
  readonly transfers: readonly TransferRow[];
  readonly receipts: readonly ReceiptRow[];
  /** Events still waiting in each region's outboxes. */
  readonly outboxPending: Readonly<Record<string, number>>;
}

/** The region an id of the form `<region>.<uuid>` (reservations, transfers) names. */
export function regionOfId(id: string): string {
  const dot = id.indexOf('.');
  return dot < 0 ? '' : id.slice(0, dot);
}

export const rowKey = (row: { readonly warehouseId: string; readonly sku: string }): string => `${row.warehouseId}/${row.sku}`;
