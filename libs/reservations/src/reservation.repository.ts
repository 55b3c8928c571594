import { Injectable } from '@nestjs/common';
import type { SqlTx } from '@stockmesh/persistence';

export type ReservationStatus = 'pending' | 'held' | 'committed' | 'released' | 'expired' | 'failed';
export type AllocationState = 'intent' | 'held' | 'refused' | 'committed' | 'released';

export interface ReservationLine {
  readonly sku: string;
  readonly quantity: number;
  readonly warehouseId?: string;
}

export interface ReservationRecord {
  readonly id: string;
  readonly status: ReservationStatus;
  readonly idempotencyKey: string;
  readonly fingerprint: string;
  readonly reference: string | null;
  readonly ttlSeconds: number;
  readonly allowSplit: boolean;
  readonly lines: readonly ReservationLine[];
  readonly expiresAt: Date | null;
  readonly answerStatus: number | null;
  readonly answer: unknown;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface AllocationRecord {
  readonly reservationId: string;
  readonly allocationNo: number;
  readonly lineNo: number;
  readonly sku: string;
  readonly warehouseId: string;
  readonly region: string;
  readonly quantity: number;
  readonly state: AllocationState;
}

interface ReservationRow {
  id: string;
  status: ReservationStatus;
  idempotency_key: string;
  fingerprint: string;
  reference: string | null;
  ttl_seconds: number;
  allow_split: boolean;
  lines: ReservationLine[];
  expires_at: Date | null;
  answer_status: number | null;
  answer: unknown;
  created_at: Date;
  updated_at: Date;
}

interface AllocationRow {
  reservation_id: string;
  allocation_no: number;
  line_no: number;
  sku: string;
  warehouse_id: string;
  region: string;
  quantity: string;
  state: AllocationState;
}

const RESERVATION_COLUMNS =
  'id, status, idempotency_key, fingerprint, reference, ttl_seconds, allow_split, lines, expires_at, answer_status, answer, created_at, updated_at';
const ALLOCATION_COLUMNS = 'reservation_id, allocation_no, line_no, sku, warehouse_id, region, quantity, state';

const toReservation = (r: ReservationRow): ReservationRecord => ({
  id: r.id,
  status: r.status,
  idempotencyKey: r.idempotency_key,
  fingerprint: r.fingerprint,
  reference: r.reference,
  ttlSeconds: r.ttl_seconds,
  allowSplit: r.allow_split,
  lines: r.lines,
  expiresAt: r.expires_at,
  answerStatus: r.answer_status,
  answer: r.answer,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toAllocation = (r: AllocationRow): AllocationRecord => ({
  reservationId: r.reservation_id,
  allocationNo: r.allocation_no,
  lineNo: r.line_no,
  sku: r.sku,
  warehouseId: r.warehouse_id,
  region: r.region,
  quantity: Number(r.quantity),
  state: r.state,
});

/** How long a running saga's claim lasts without a step; past it, recovery takes over. */
export const SAGA_LEASE_SECONDS = 15;

/** The `reservations` and `reservation_allocations` tables of the coordinating region's home database. */
@Injectable()
export class ReservationRepository {
  /**
   * Starts a reservation as `pending` under its Idempotency-Key; returns `undefined` when the key
   * was already used, so the caller replays (or waits for) that reservation instead.
   */
  async insertPending(
    tx: SqlTx,
    r: Pick<ReservationRecord, 'id' | 'idempotencyKey' | 'fingerprint' | 'reference' | 'ttlSeconds' | 'allowSplit' | 'lines'>,
  ): Promise<ReservationRecord | undefined> {
    const [row] = await tx.query<ReservationRow>(
      `INSERT INTO reservations (id, status, idempotency_key, fingerprint, reference, ttl_seconds, allow_split, lines, lease_until)
       VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7::jsonb, now() + make_interval(secs => ${SAGA_LEASE_SECONDS}))
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${RESERVATION_COLUMNS}`,
      [r.id, r.idempotencyKey, r.fingerprint, r.reference, r.ttlSeconds, r.allowSplit, JSON.stringify(r.lines)],
    );
    return row && toReservation(row);
  }

  async findByKey(tx: SqlTx, idempotencyKey: string): Promise<ReservationRecord | undefined> {
    const [row] = await tx.query<ReservationRow>(`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE idempotency_key = $1`, [
      idempotencyKey,
    ]);
    return row && toReservation(row);
  }

  async find(tx: SqlTx, id: string): Promise<ReservationRecord | undefined> {
    const [row] = await tx.query<ReservationRow>(`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE id = $1`, [id]);
    return row && toReservation(row);
  }

  /** Records the intent to hold before asking the owner, and renews the saga's lease. */
  async addAllocation(tx: SqlTx, a: Omit<AllocationRecord, 'state'>): Promise<void> {
    await tx.query(
      `INSERT INTO reservation_allocations (reservation_id, allocation_no, line_no, sku, warehouse_id, region, quantity, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'intent')`,
      [a.reservationId, a.allocationNo, a.lineNo, a.sku, a.warehouseId, a.region, a.quantity],
    );
    await tx.query(
      `UPDATE reservations SET lease_until = now() + make_interval(secs => ${SAGA_LEASE_SECONDS}), updated_at = now() WHERE id = $1`,
      [a.reservationId],
    );
  }

  async setAllocationState(tx: SqlTx, reservationId: string, allocationNo: number, state: AllocationState): Promise<void> {
    await tx.query(`UPDATE reservation_allocations SET state = $3, updated_at = now() WHERE reservation_id = $1 AND allocation_no = $2`, [
      reservationId,
      allocationNo,
      state,
    ]);
  }

  async allocations(tx: SqlTx, reservationId: string): Promise<AllocationRecord[]> {
    const rows = await tx.query<AllocationRow>(
      `SELECT ${ALLOCATION_COLUMNS} FROM reservation_allocations WHERE reservation_id = $1 ORDER BY allocation_no`,
      [reservationId],
    );
    return rows.map(toAllocation);
  }

  /**
   * Ends the saga: `pending` becomes `held` (with its expiry) or `failed`, with the answer to
   * replay for its Idempotency-Key. Returns `false` when the reservation was no longer pending
   * (recovery took it over because the lease ran out): the caller's holds are then compensated.
   */
  async decide(
    tx: SqlTx,
    id: string,
    status: 'held' | 'failed',
    answerStatus: number,
    answer: unknown,
    expiresAt: Date | null,
  ): Promise<boolean> {
    const rows = await tx.query(
      `UPDATE reservations SET status = $2, answer_status = $3, answer = $4::json, expires_at = $5, lease_until = NULL, updated_at = now()
       WHERE id = $1 AND status = 'pending' RETURNING 1 AS decided`,
      [id, status, answerStatus, JSON.stringify(answer), expiresAt],
    );
    return rows.length === 1;
  }

  /** Commits or releases a held reservation that has not expired; `undefined` if it was not held. */
  async close(tx: SqlTx, id: string, to: 'committed' | 'released'): Promise<ReservationRecord | undefined> {
    const [row] = await tx.query<ReservationRow>(
      `UPDATE reservations SET status = $2, updated_at = now()
       WHERE id = $1 AND status = 'held' AND ($2 = 'released' OR expires_at > now())
       RETURNING ${RESERVATION_COLUMNS}`,
      [id, to],
    );
    return row && toReservation(row);
  }

  /** Expires held reservations past their time; each exactly once, whichever instance gets it. */
  async expireDue(tx: SqlTx, limit: number): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `UPDATE reservations SET status = 'expired', updated_at = now()
       WHERE id IN (SELECT id FROM reservations WHERE status = 'held' AND expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  /** Fails sagas whose coordinator stopped renewing its lease (it crashed); their holds are then released. */
  async abandonStale(tx: SqlTx, answer: unknown, limit: number): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `UPDATE reservations SET status = 'failed', answer_status = 409, answer = $1::json, lease_until = NULL, updated_at = now()
       WHERE id IN (SELECT id FROM reservations WHERE status = 'pending' AND lease_until < now() LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [JSON.stringify(answer), limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Allocations still open at an owner although their reservation is decided: to be committed
   * (reservation committed) or released (anything else, and any intent whose hold answer never
   * came). Locked, so one instance works each.
   */
  async unfinished(
    tx: SqlTx,
    limit: number,
    reservationId?: string,
  ): Promise<(AllocationRecord & { readonly reservationStatus: ReservationStatus })[]> {
    const rows = await tx.query<AllocationRow & { reservation_status: ReservationStatus }>(
      `SELECT ${ALLOCATION_COLUMNS.split(', ')
        .map((c) => `a.${c}`)
        .join(', ')}, r.status AS reservation_status
       FROM reservation_allocations a JOIN reservations r ON r.id = a.reservation_id
       WHERE ((a.state = 'held' AND r.status IN ('committed', 'released', 'expired', 'failed'))
              -- an intent left after the saga decided is a hold whose answer never came: release it
              OR (a.state = 'intent' AND r.status <> 'pending'))
         AND ($2::text IS NULL OR a.reservation_id = $2)
       ORDER BY a.updated_at LIMIT $1 FOR UPDATE OF a SKIP LOCKED`,
      [limit, reservationId ?? null],
    );
    return rows.map((r) => ({ ...toAllocation(r), reservationStatus: r.reservation_status }));
  }
}
