import { Injectable } from '@nestjs/common';
import type { SqlTx } from '@stockmesh/persistence';

export type ReservationStatus = 'pending' | 'held' | 'committing' | 'committed' | 'commit-failed' | 'released' | 'expired' | 'failed';
/** `lost`: the owner no longer had the hold when the coordinator carried the decision to it. */
export type AllocationState = 'intent' | 'held' | 'refused' | 'committed' | 'released' | 'lost';
/** Where a decided reservation's open allocation goes at its owner. */
export type AllocationTarget = 'commit' | 'release';

export interface ReservationLine {
  readonly sku: string;
  readonly quantity: number;
  readonly warehouseId?: string;
  /**
   * Set on a component line of a kit: the kit's SKU, the request line (1-based) it came from and
   * the component units one kit takes. Stored with the lines (JSON), so no column changes.
   */
  readonly kit?: { readonly sku: string; readonly line: number; readonly perKit: number };
}

export interface ReservationRecord {
  readonly id: string;
  readonly status: ReservationStatus;
  /** The Idempotency-Key with its scope (`scopedKey`): unique per caller and key. */
  readonly idempotencyKey: string;
  readonly fingerprint: string;
  /** The id of the API key that made it; `null` for reservations older than quotas. */
  readonly createdBy: string | null;
  readonly reference: string | null;
  readonly ttlSeconds: number;
  readonly allowSplit: boolean;
  /** The sales channel it was made for, or `null`. */
  readonly channel: string | null;
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
  /** How many of the units a partial commit takes (0: released instead); `null`: all of them. */
  readonly commitQuantity: number | null;
  /** Of its units, those the owner promised out of incoming stock when it placed the hold (a backorder). */
  readonly backordered: number;
}

/** An allocation as the saga records its intent. */
export type NewAllocation = Omit<AllocationRecord, 'state' | 'commitQuantity' | 'backordered'>;

/** An open allocation of a decided reservation, claimed by one finisher for one attempt. */
export interface ClaimedAllocation extends AllocationRecord {
  readonly target: AllocationTarget;
  /** Attempts so far, this one included. */
  readonly attempts: number;
}

/** What one attempt at an owner came to. */
export type FinishResult =
  | { readonly kind: 'done'; readonly state: 'committed' | 'released' }
  | { readonly kind: 'lost'; readonly reason: string }
  | { readonly kind: 'retry'; readonly at: Date; readonly reason: string };

interface ReservationRow {
  id: string;
  status: ReservationStatus;
  idempotency_key: string;
  fingerprint: string;
  created_by: string | null;
  reference: string | null;
  ttl_seconds: number;
  allow_split: boolean;
  channel: string | null;
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
  commit_quantity: string | null;
  backordered: string;
}

interface ClaimedRow extends AllocationRow {
  target: AllocationTarget;
  attempts: number;
}

const RESERVATION_COLUMNS =
  'id, status, idempotency_key, fingerprint, created_by, reference, ttl_seconds, allow_split, channel, lines, expires_at, answer_status, answer, created_at, updated_at';
const ALLOCATION_COLUMNS =
  'reservation_id, allocation_no, line_no, sku, warehouse_id, region, quantity, state, commit_quantity, backordered';

const toReservation = (r: ReservationRow): ReservationRecord => ({
  id: r.id,
  status: r.status,
  idempotencyKey: r.idempotency_key,
  fingerprint: r.fingerprint,
  createdBy: r.created_by,
  reference: r.reference,
  ttlSeconds: r.ttl_seconds,
  allowSplit: r.allow_split,
  channel: r.channel,
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
  commitQuantity: r.commit_quantity === null ? null : Number(r.commit_quantity),
  backordered: Number(r.backordered),
});

/** What a saga stores of a reservation when it starts it. */
export type PendingReservation = Pick<
  ReservationRecord,
  'id' | 'idempotencyKey' | 'fingerprint' | 'createdBy' | 'reference' | 'ttlSeconds' | 'allowSplit' | 'channel' | 'lines'
>;

/** The parameters $1 to $11 of a pending reservation's insert. */
const pendingParams = (r: PendingReservation, leaseUntil: Date): unknown[] => [
  r.id,
  r.idempotencyKey,
  r.fingerprint,
  r.createdBy,
  r.lines.reduce((sum, l) => sum + l.quantity, 0),
  r.reference,
  r.ttlSeconds,
  r.allowSplit,
  JSON.stringify(r.lines),
  leaseUntil,
  r.channel,
];

const toClaimed = (r: ClaimedRow): ClaimedAllocation => ({ ...toAllocation(r), target: r.target, attempts: r.attempts });

/** How long a running saga's claim lasts without renewal; past it, recovery takes over. */
export const SAGA_LEASE_SECONDS = 15;

const OPEN = `state IN ('intent', 'held')`;
/** Statuses a reservation never leaves (the predicate of the partial index `reservations_final`). */
const FINAL_STATUSES = `'committed', 'commit-failed', 'released', 'expired', 'failed'`;

/** The `reservations` and `reservation_allocations` tables of the coordinating region's home database. */
@Injectable()
export class ReservationRepository {
  /**
   * Starts a reservation as `pending` under its Idempotency-Key, leased until `leaseUntil`;
   * returns `undefined` when the key was already used, so the caller replays (or waits for) that
   * reservation instead.
   */
  async insertPending(tx: SqlTx, r: PendingReservation, leaseUntil: Date): Promise<ReservationRecord | undefined> {
    const [row] = await tx.query<ReservationRow>(
      `INSERT INTO reservations (id, status, idempotency_key, fingerprint, created_by, units, reference, ttl_seconds, allow_split, lines, lease_until, channel)
       VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${RESERVATION_COLUMNS}`,
      pendingParams(r, leaseUntil),
    );
    return row && toReservation(row);
  }

  /**
   * `insertPending` and, when it inserted, `insertIntent` of the first allocation, in one
   * statement: atomic by itself, so it needs no transaction around it (one round trip instead of
   * four). The saga's start for a key without quotas.
   */
  async insertPendingWithIntent(
    tx: SqlTx,
    r: PendingReservation,
    leaseUntil: Date,
    first: NewAllocation,
  ): Promise<ReservationRecord | undefined> {
    const [row] = await tx.query<ReservationRow>(
      `WITH inserted AS (
         INSERT INTO reservations (id, status, idempotency_key, fingerprint, created_by, units, reference, ttl_seconds, allow_split, lines, lease_until, channel)
         VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11)
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${RESERVATION_COLUMNS}
       ), intent AS (
         INSERT INTO reservation_allocations (reservation_id, allocation_no, line_no, sku, warehouse_id, region, quantity, state)
         SELECT id, $12, $13, $14, $15, $16, $17, 'intent' FROM inserted
       )
       SELECT * FROM inserted`,
      [...pendingParams(r, leaseUntil), first.allocationNo, first.lineNo, first.sku, first.warehouseId, first.region, first.quantity],
    );
    return row && toReservation(row);
  }

  /**
   * The reservation status and allocation state of each `[reservationId, allocationNo]` asked
   * about (an owner's hold audit), keyed `<reservationId>.<allocationNo>` like the holds; a pair
   * this database does not know is absent. Primary-key lookups only.
   */
  async allocationStates(
    tx: SqlTx,
    keys: readonly { readonly reservationId: string; readonly allocationNo: number }[],
  ): Promise<Map<string, { readonly status?: ReservationStatus; readonly state?: AllocationState }>> {
    const rows = await tx.query<{
      reservation_id: string;
      allocation_no: number;
      status: ReservationStatus | null;
      state: AllocationState | null;
    }>(
      `SELECT q.reservation_id, q.allocation_no, r.status, a.state
         FROM unnest($1::text[], $2::int[]) AS q (reservation_id, allocation_no)
         JOIN reservations r ON r.id = q.reservation_id
         LEFT JOIN reservation_allocations a ON a.reservation_id = q.reservation_id AND a.allocation_no = q.allocation_no`,
      [keys.map((k) => k.reservationId), keys.map((k) => k.allocationNo)],
    );
    return new Map(
      rows.map((r) => [`${r.reservation_id}.${r.allocation_no}`, { status: r.status ?? undefined, state: r.state ?? undefined }]),
    );
  }

  /**
   * Serializes the quota checks of one API key until the transaction ends: two requests of the
   * key cannot both count the same usage and both insert. Other keys are not held up (a hash
   * collision between two keys only makes them wait for each other).
   */
  async lockCreator(tx: SqlTx, createdBy: string): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('stockmesh reservation quota'), hashtext($1))`, [createdBy]);
  }

  /**
   * What a key has open at `now`: reservations being made or held (a held one past its expiry
   * no longer counts, though the sweeper has not marked it yet), and their units. Read after
   * `lockCreator`, it cannot miss an insert of the same key that committed first.
   */
  async openUsage(tx: SqlTx, createdBy: string, now: Date): Promise<{ readonly reservations: number; readonly units: number }> {
    const [row] = await tx.query<{ reservations: number; units: string }>(
      `SELECT count(*)::int AS reservations, coalesce(sum(units), 0)::text AS units FROM reservations
        WHERE created_by = $1 AND status IN ('pending', 'held') AND (status = 'pending' OR expires_at > $2)`,
      [createdBy, now],
    );
    return { reservations: row.reservations, units: Number(row.units) };
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

  /**
   * Moves a held, unexpired reservation's expiry to `until` (never earlier); `undefined` when it is no longer held or expired at `now`.
   */
  async extend(tx: SqlTx, id: string, until: Date, now: Date): Promise<ReservationRecord | undefined> {
    const [row] = await tx.query<ReservationRow>(
      `UPDATE reservations SET expires_at = GREATEST(expires_at, $2), updated_at = now()
        WHERE id = $1 AND status = 'held' AND expires_at > $3 RETURNING ${RESERVATION_COLUMNS}`,
      [id, until, now],
    );
    return row && toReservation(row);
  }

  /**
   * Extends a running saga's lease; `false` when the saga is no longer `pending` (recovery took it
   * over): the caller must then place no more holds.
   */
  async renewLease(tx: SqlTx, id: string, leaseUntil: Date): Promise<boolean> {
    const rows = await tx.query(
      `UPDATE reservations SET lease_until = $2, updated_at = now() WHERE id = $1 AND status = 'pending' RETURNING 1 AS renewed`,
      [id, leaseUntil],
    );
    return rows.length === 1;
  }

  /**
   * Records the intent to hold before the owner is asked, and renews the saga's lease, only while
   * the saga is still `pending`: a saga that recovery took over gets `false` and places nothing
   * more (the fence). The row lock on the reservation orders this against the takeover.
   */
  async addAllocation(tx: SqlTx, a: NewAllocation, leaseUntil: Date): Promise<boolean> {
    if (!(await this.renewLease(tx, a.reservationId, leaseUntil))) return false;
    await this.insertIntent(tx, a);
    return true;
  }

  /**
   * Records the intent to hold, unfenced: only for the transaction that inserts the pending
   * reservation itself (nothing can have taken over a saga that does not exist yet).
   */
  async insertIntent(tx: SqlTx, a: NewAllocation): Promise<void> {
    await tx.query(
      `INSERT INTO reservation_allocations (reservation_id, allocation_no, line_no, sku, warehouse_id, region, quantity, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'intent')`,
      [a.reservationId, a.allocationNo, a.lineNo, a.sku, a.warehouseId, a.region, a.quantity],
    );
  }

  /**
   * The saga's answer for an intent: `held`, `refused` or `released`. Only an intent moves, so a
   * late answer never reopens an allocation the finisher has already carried to its end.
   */
  async settleIntent(tx: SqlTx, reservationId: string, allocationNo: number, state: 'held' | 'refused' | 'released'): Promise<void> {
    await tx.query(
      `UPDATE reservation_allocations SET state = $3, updated_at = now() WHERE reservation_id = $1 AND allocation_no = $2 AND state = 'intent'`,
      [reservationId, allocationNo, state],
    );
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
   * Whatever the saga leaves open that the decision does not keep is given to the finisher.
   */
  async decide(
    tx: SqlTx,
    id: string,
    status: 'held' | 'failed',
    answerStatus: number,
    answer: unknown,
    expiresAt: Date | null,
    settled: ReadonlyMap<number, 'held' | 'refused'> = new Map(),
    backordered: ReadonlyMap<number, number> = new Map(),
  ): Promise<boolean> {
    const numbers = [...settled.keys()];
    // One statement, atomic by itself (no transaction needed): the reservation's row lock comes
    // first (`decided` joins every other part), so a takeover that changed its status leaves all
    // of it undone. Then, for each allocation, what the two steps of the saga's decision make of
    // it: the owners' answers the saga kept until now (see ReservationsService.run; only intents
    // move), and the finisher's target for what stays open: a held reservation keeps its holds
    // and releases an intent left over (a hold whose answer never came), a failed one releases
    // every open allocation.
    const open = status === 'held' ? `n.state = 'intent'` : `n.state IN ('intent', 'held')`;
    const [row] = await tx.query<{ decided: number }>(
      `WITH decided AS (
         UPDATE reservations SET status = $2, answer_status = $3, answer = $4::json, expires_at = $5, lease_until = NULL, updated_at = now()
          WHERE id = $1 AND status = 'pending' RETURNING id
       ), next AS (
         SELECT a.allocation_no, s.allocation_no IS NOT NULL AS answered,
                CASE WHEN s.allocation_no IS NOT NULL THEN s.state ELSE a.state END AS state,
                CASE WHEN s.allocation_no IS NOT NULL THEN s.backordered ELSE a.backordered END AS backordered
           FROM decided d
           JOIN reservation_allocations a ON a.reservation_id = d.id
           LEFT JOIN unnest($6::int[], $7::text[], $8::bigint[]) AS s (allocation_no, state, backordered)
             ON s.allocation_no = a.allocation_no AND a.state = 'intent'
       ), changed AS (
         UPDATE reservation_allocations a
            SET state = n.state, backordered = n.backordered,
                target = CASE WHEN ${open} THEN 'release' ELSE a.target END,
                next_attempt_at = CASE WHEN ${open} THEN '-infinity' ELSE a.next_attempt_at END,
                updated_at = now()
           FROM next n
          WHERE a.reservation_id = $1 AND a.allocation_no = n.allocation_no AND (n.answered OR ${open})
       )
       SELECT count(*)::int AS decided FROM decided`,
      [
        id,
        status,
        answerStatus,
        JSON.stringify(answer),
        expiresAt,
        numbers,
        [...settled.values()],
        numbers.map((no) => backordered.get(no) ?? 0),
      ],
    );
    return row.decided === 1;
  }

  /**
   * Commits (`committing`, until every owner has committed its hold) or releases a held
   * reservation that has not expired at `now`; `undefined` if it was not held. Its open
   * allocations get their target and are claimed for the caller until `claimUntil` in the same
   * statement, so the caller carries the decision to the owners itself rather than racing the
   * sweeper for it. A commit may take fewer units of held allocations (`partial`: allocation
   * number to units, 0 for none); those that take none are released instead.
   */
  async close(
    tx: SqlTx,
    id: string,
    to: 'committing' | 'released',
    now: Date,
    claimUntil: Date,
    partial?: ReadonlyMap<number, number>,
  ): Promise<{ reservation: ReservationRecord; claimed: ClaimedAllocation[] } | undefined> {
    const [row] = await tx.query<ReservationRow>(
      `UPDATE reservations SET status = $2, updated_at = now()
       WHERE id = $1 AND status = 'held' AND ($2 = 'released' OR expires_at > $3)
       RETURNING ${RESERVATION_COLUMNS}`,
      [id, to, now],
    );
    if (!row) return undefined;
    if (to === 'committing' && partial) {
      await tx.query(
        `UPDATE reservation_allocations a SET commit_quantity = p.units
           FROM unnest($2::int[], $3::bigint[]) AS p (allocation_no, units)
          WHERE a.reservation_id = $1 AND a.allocation_no = p.allocation_no AND a.state = 'held'`,
        [id, [...partial.keys()], [...partial.values()]],
      );
    }
    // A held allocation follows the decision (unless the commit takes none of it); an intent left
    // over is a hold whose answer never came.
    const claimed = await tx.query<ClaimedRow>(
      `UPDATE reservation_allocations
          SET target = CASE WHEN $2 = 'committing' AND state = 'held' AND COALESCE(commit_quantity, 1) > 0 THEN 'commit' ELSE 'release' END,
              next_attempt_at = $3, attempts = attempts + 1, updated_at = now()
        WHERE reservation_id = $1 AND ${OPEN}
       RETURNING ${ALLOCATION_COLUMNS}, target, attempts`,
      [id, to, claimUntil],
    );
    return { reservation: toReservation(row), claimed: claimed.map(toClaimed) };
  }

  /**
   * Deletes up to `limit` final reservations that became final before `cutoff`, oldest first
   * (through `reservations_final`), with their allocations, in one statement. A reservation with
   * an allocation still open at an owner is kept until the finisher closes it; a pending, held or
   * committing one never matches, however old.
   */
  async pruneFinished(tx: SqlTx, cutoff: Date, limit: number): Promise<number> {
    const rows = await tx.query(
      // = ANY(ARRAY(...)): each victim is fetched by its key, never by a join with the whole table.
      `WITH doomed AS (
         SELECT ARRAY(
           SELECT id FROM reservations r
            WHERE status IN (${FINAL_STATUSES}) AND updated_at < $1
              AND NOT EXISTS (SELECT 1 FROM reservation_allocations a WHERE a.reservation_id = r.id AND a.${OPEN})
            ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED) AS ids),
       allocations AS (DELETE FROM reservation_allocations WHERE reservation_id = ANY((SELECT ids FROM doomed)::text[]))
       DELETE FROM reservations WHERE id = ANY((SELECT ids FROM doomed)::text[]) RETURNING 1 AS deleted`,
      [cutoff, limit],
    );
    return rows.length;
  }

  /** Expires held reservations past `now`; each exactly once, whichever instance gets it. */
  async expireDue(tx: SqlTx, now: Date, limit: number): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `UPDATE reservations SET status = 'expired', updated_at = now()
       WHERE id IN (SELECT id FROM reservations WHERE status = 'held' AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [now, limit],
    );
    const ids = rows.map((r) => r.id);
    await this.target(tx, ids, 'release', OPEN);
    return ids;
  }

  /** Fails sagas whose coordinator stopped renewing its lease before `now` (it crashed); their holds are then released. */
  async abandonStale(tx: SqlTx, now: Date, answer: unknown, limit: number): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `UPDATE reservations SET status = 'failed', answer_status = 409, answer = $1::json, lease_until = NULL, updated_at = now()
       WHERE id IN (SELECT id FROM reservations WHERE status = 'pending' AND lease_until < $2 LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [JSON.stringify(answer), now, limit],
    );
    const ids = rows.map((r) => r.id);
    await this.target(tx, ids, 'release', OPEN);
    return ids;
  }

  /**
   * Claims up to `limit` open allocations of decided reservations that are due at `now` (of one
   * reservation if given), for one attempt each: `next_attempt_at` moves to `claimUntil`, past
   * the longest the attempt's calls can take, so no other instance takes them meanwhile, and an
   * instance that dies mid-attempt leaves them due again at `claimUntil`. The claim commits at
   * once: no transaction stays open while the owners are asked.
   */
  async claimDue(tx: SqlTx, now: Date, claimUntil: Date, limit: number, reservationId?: string): Promise<ClaimedAllocation[]> {
    const rows = await tx.query<ClaimedRow>(
      `UPDATE reservation_allocations SET next_attempt_at = $2, attempts = attempts + 1
       WHERE (reservation_id, allocation_no) IN (
         SELECT reservation_id, allocation_no FROM reservation_allocations
          WHERE target IS NOT NULL AND ${OPEN} AND next_attempt_at <= $1 AND ($4::text IS NULL OR reservation_id = $4)
          ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING ${ALLOCATION_COLUMNS}, target, attempts`,
      [now, claimUntil, limit, reservationId ?? null],
    );
    return rows.map(toClaimed);
  }

  /** Records what an attempt came to: the allocation's end, or when to try it again and why. */
  async recordAttempt(tx: SqlTx, a: Pick<AllocationRecord, 'reservationId' | 'allocationNo'>, result: FinishResult): Promise<void> {
    if (result.kind === 'retry') {
      await tx.query(
        `UPDATE reservation_allocations SET next_attempt_at = $3, last_error = $4 WHERE reservation_id = $1 AND allocation_no = $2 AND ${OPEN}`,
        [a.reservationId, a.allocationNo, result.at, result.reason],
      );
      return;
    }
    await tx.query(
      `UPDATE reservation_allocations SET state = $3, last_error = $4, updated_at = now()
       WHERE reservation_id = $1 AND allocation_no = $2 AND ${OPEN}`,
      [a.reservationId, a.allocationNo, result.kind === 'lost' ? 'lost' : result.state, result.kind === 'lost' ? result.reason : null],
    );
  }

  /**
   * A `committing` reservation whose every hold has reached its end becomes `committed`, or
   * `commit-failed` if an owner no longer had one of them. Returns the ids that became
   * `commit-failed`.
   */
  async settleCommits(tx: SqlTx, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await tx.query<{ id: string; status: ReservationStatus }>(
      `UPDATE reservations r
          SET status = CASE WHEN EXISTS (SELECT 1 FROM reservation_allocations a WHERE a.reservation_id = r.id AND a.state = 'lost')
                            THEN 'commit-failed' ELSE 'committed' END,
              updated_at = now()
        WHERE r.id = ANY($1::text[]) AND r.status = 'committing'
          AND NOT EXISTS (SELECT 1 FROM reservation_allocations a WHERE a.reservation_id = r.id AND a.target = 'commit' AND a.${OPEN})
       RETURNING r.id, r.status`,
      [ids],
    );
    return rows.filter((r) => r.status === 'commit-failed').map((r) => r.id);
  }

  /** Gives the open allocations (matching `which`) of decided reservations to the finisher. */
  private async target(tx: SqlTx, ids: readonly string[], target: AllocationTarget, which: string): Promise<void> {
    if (ids.length === 0) return;
    await tx.query(
      `UPDATE reservation_allocations SET target = $2, next_attempt_at = '-infinity', updated_at = now()
        WHERE reservation_id = ANY($1::text[]) AND ${which}`,
      [ids, target],
    );
  }
}
