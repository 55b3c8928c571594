// The chaos run's judge: pure functions over the history a run recorded and the snapshot of the
// cluster's databases read after it settled. Each check returns the violations it found, each
// with the history records that show it, so a failed run says what went wrong and where to look.
//
// What "no answer" means: a request that timed out or found its region down may or may not have
// taken effect. The checker never counts it as a violation by itself; it checks that whatever it
// left behind is consistent (a ledger entry that matches it, a reservation that is final...).
import {
  regionOfId,
  rowKey,
  type ClusterSnapshot,
  type HistoryRecord,
  type HoldRow,
  type RequestRecord,
  type ReservationRow,
  type StockRow,
} from './chaos-history.js';

export type CheckName =
  | 'no-oversell'
  | 'ledger-continuity'
  | 'reserved-matches-holds'
  | 'conservation'
  | 'acknowledged-writes'
  | 'reservations-final'
  | 'no-orphan-holds'
  | 'transfers-settled'
  | 'replicas-match-owners';

export const CHECKS: readonly CheckName[] = [
  'no-oversell',
  'ledger-continuity',
  'reserved-matches-holds',
  'conservation',
  'acknowledged-writes',
  'reservations-final',
  'no-orphan-holds',
  'transfers-settled',
  'replicas-match-owners',
];

export interface Violation {
  readonly check: CheckName;
  readonly message: string;
  /** The history records that concern the violation (newest last, at most `EXCERPT_MAX`). */
  readonly excerpt: readonly HistoryRecord[];
}

export interface CheckInput {
  readonly history: readonly HistoryRecord[];
  readonly snapshot: ClusterSnapshot;
}

const EXCERPT_MAX = 12;
/** How close to its expiry a held reservation still counts as in flight (see `unsettled`). */
const EXPIRY_MARGIN_MS = 15_000;

/** The requests and faults whose JSON mentions every token (a warehouse, a SKU, an id, a key). */
export function excerpt(history: readonly HistoryRecord[], ...tokens: readonly string[]): HistoryRecord[] {
  const wanted = tokens.filter((t) => t.length > 0);
  const matching = history.filter((r) => {
    const text = JSON.stringify(r);
    return wanted.every((t) => text.includes(t));
  });
  return matching.slice(-EXCERPT_MAX);
}

const requests = (history: readonly HistoryRecord[]): RequestRecord[] => history.filter((r): r is RequestRecord => r.type === 'request');

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** Answer fields, read defensively: an answer is whatever the service sent. */
function field(answer: unknown, name: string): unknown {
  return typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>)[name] : undefined;
}

/** No oversell, ever: every ledger entry left its row with 0 <= reserved <= onHand. */
export function checkNoOversell({ history, snapshot }: CheckInput): Violation[] {
  return snapshot.ledger
    .filter((e) => e.reservedAfter > e.onHandAfter || e.reservedAfter < 0 || e.onHandAfter < 0)
    .map((e) => ({
      check: 'no-oversell',
      message: `${rowKey(e)} at ${e.region}: ledger entry ${e.seq} (${e.kind}, version ${e.version}) left onHand ${e.onHandAfter}, reserved ${e.reservedAfter}`,
      excerpt: excerpt(history, e.warehouseId, e.sku),
    }));
}

/**
 * Every owner row is exactly what its ledger says: versions 1..n without a gap or a repeat, each
 * entry's onHand is the previous one plus its delta, and the last entry is the row as it stands.
 * This is what makes the ledger a complete record to check the rest against.
 */
export function checkLedgerContinuity({ history, snapshot }: CheckInput): Violation[] {
  const violations: Violation[] = [];
  const byRow = groupBy(snapshot.ledger, rowKey);
  const rows = new Map(snapshot.stock.map((r) => [rowKey(r), r]));
  const report = (key: string, message: string): void => {
    const [warehouseId, sku] = key.split('/');
    violations.push({ check: 'ledger-continuity', message: `${key}: ${message}`, excerpt: excerpt(history, warehouseId, sku) });
  };
  for (const [key, entries] of byRow) {
    const sorted = [...entries].sort((a, b) => a.version - b.version);
    let onHand = 0;
    sorted.forEach((e, i) => {
      if (e.version !== i + 1)
        report(
          key,
          `ledger entry ${e.seq} has version ${e.version}, expected ${i + 1} (a change without its entry, or two entries for one change)`,
        );
      if (e.onHandAfter !== onHand + e.delta)
        report(key, `ledger entry ${e.seq} (${e.kind}) says onHand ${e.onHandAfter} after delta ${e.delta} from ${onHand}`);
      onHand = e.onHandAfter;
    });
    const last = sorted[sorted.length - 1];
    const row = rows.get(key);
    if (!row) report(key, `the ledger has ${sorted.length} entries but the owner has no row`);
    else if (row.onHand !== last.onHandAfter || row.reserved !== last.reservedAfter || row.version !== last.version)
      report(
        key,
        `the row (onHand ${row.onHand}, reserved ${row.reserved}, v${row.version}) differs from its last ledger entry (onHand ${last.onHandAfter}, reserved ${last.reservedAfter}, v${last.version})`,
      );
  }
  for (const key of rows.keys()) if (!byRow.has(key)) report(key, 'the owner has the row but its ledger is empty');
  return violations;
}

/** Every owner row's `reserved` is the sum of the holds it still holds: no unit is held for nobody. */
export function checkReservedMatchesHolds({ history, snapshot }: CheckInput): Violation[] {
  const held = groupBy(
    snapshot.holds.filter((h) => h.status === 'held'),
    rowKey,
  );
  return snapshot.stock
    .map((row) => ({ row, holds: held.get(rowKey(row)) ?? [] }))
    .filter(({ row, holds }) => row.reserved !== sum(holds.map((h) => h.quantity)))
    .map(({ row, holds }) => ({
      check: 'reserved-matches-holds' as const,
      message: `${rowKey(row)} at ${row.region}: reserved ${row.reserved}, but its held holds add up to ${sum(holds.map((h) => h.quantity))} (${holds.map((h) => `${h.id}×${h.quantity}`).join(', ') || 'none'})`,
      excerpt: excerpt(history, row.warehouseId, row.sku),
    }));
}

/**
 * Conservation. Units enter and leave the system only through counts, adjustments and commits;
 * transfers move them. So for every SKU:
 *
 *   sum of onHand over its owner rows + units in transit
 *     = sum of the deltas of its `set` and `adjustment` ledger entries + sum of its `commit` deltas
 *
 * where "in transit" is the quantity of transfers still pending whose destination has no receipt.
 * That equation is only worth something if each term is what clients did, so the check also ties
 * the ledger to the history: every `set`/`adjustment` entry carries the Idempotency-Key of a request
 * in the history for that row (a count's entry has exactly the onHand asked for, an adjustment's
 * exactly the delta asked for), no key has two entries, and every row's commits add up to the
 * holds committed there. A count sets onHand absolutely, so its delta is whatever onHand was
 * before: checkable only through the ledger's order, which ledger-continuity covers.
 */
export function checkConservation({ history, snapshot }: CheckInput): Violation[] {
  const violations: Violation[] = [];
  const writes = new Map(
    requests(history)
      .filter((r) => (r.op === 'adjust' || r.op === 'count') && r.idempotencyKey)
      .map((r) => [r.idempotencyKey!, r]),
  );
  const external = snapshot.ledger.filter((e) => e.kind === 'set' || e.kind === 'adjustment');
  for (const [key, entries] of groupBy(
    external.filter((e) => e.idempotencyKey),
    (e) => e.idempotencyKey!,
  )) {
    if (entries.length > 1)
      violations.push({
        check: 'conservation',
        message: `Idempotency-Key ${key} was applied ${entries.length} times (${entries.map((e) => `${rowKey(e)} entry ${e.seq}`).join(', ')})`,
        excerpt: excerpt(history, key),
      });
  }
  for (const e of external) {
    const request = e.idempotencyKey ? writes.get(e.idempotencyKey) : undefined;
    const asked = request?.body;
    const matches =
      request !== undefined &&
      request.path.endsWith(`/warehouses/${e.warehouseId}/stock/${e.sku}${request.op === 'adjust' ? '/adjustments' : ''}`) &&
      (request.op === 'adjust'
        ? e.kind === 'adjustment' && field(asked, 'delta') === e.delta
        : e.kind === 'set' && field(asked, 'onHand') === e.onHandAfter);
    if (!matches)
      violations.push({
        check: 'conservation',
        message: `${rowKey(e)} at ${e.region}: ledger entry ${e.seq} (${e.kind} ${e.delta}, key ${e.idempotencyKey ?? 'none'}) matches no request in the history`,
        excerpt: request ? [request] : excerpt(history, e.warehouseId, e.sku),
      });
  }

  const committedHolds = groupBy(
    snapshot.holds.filter((h) => h.status === 'committed'),
    rowKey,
  );
  const commitsByRow = groupBy(
    snapshot.ledger.filter((e) => e.kind === 'commit'),
    rowKey,
  );
  for (const key of new Set([...commitsByRow.keys(), ...committedHolds.keys()])) {
    const ledgerUnits = -sum((commitsByRow.get(key) ?? []).map((e) => e.delta));
    const holdUnits = sum((committedHolds.get(key) ?? []).map((h) => h.quantity));
    if (ledgerUnits !== holdUnits) {
      const [warehouseId, sku] = key.split('/');
      violations.push({
        check: 'conservation',
        message: `${key}: commits took ${ledgerUnits} units out of onHand, but its committed holds add up to ${holdUnits}`,
        excerpt: excerpt(history, warehouseId, sku),
      });
    }
  }

  const received = new Set(snapshot.receipts.map((r) => r.transferId));
  const inTransit = groupBy(
    snapshot.transfers.filter((t) => t.status === 'pending' && !received.has(t.id)),
    (t) => t.sku,
  );
  const ledgerBySku = groupBy(snapshot.ledger, (e) => e.sku);
  const stockBySku = groupBy(snapshot.stock, (r) => r.sku);
  for (const sku of new Set([...ledgerBySku.keys(), ...stockBySku.keys()])) {
    const entries = ledgerBySku.get(sku) ?? [];
    const onHand = sum((stockBySku.get(sku) ?? []).map((r) => r.onHand));
    const transit = sum((inTransit.get(sku) ?? []).map((t) => t.quantity));
    const counted = sum(entries.filter((e) => e.kind === 'set' || e.kind === 'adjustment').map((e) => e.delta));
    const committed = sum(entries.filter((e) => e.kind === 'commit').map((e) => e.delta));
    if (onHand + transit !== counted + committed)
      violations.push({
        check: 'conservation',
        message: `${sku}: onHand ${onHand} + in transit ${transit} = ${onHand + transit}, but counts and adjustments (${counted}) plus commits (${committed}) = ${counted + committed}`,
        excerpt: excerpt(history, sku),
      });
  }
  return violations;
}

const FINAL = new Set(['committed', 'released', 'expired', 'failed']);

/**
 * Every write the service acknowledged is there: an adjustment or count answered 2xx has its
 * ledger entry; a reservation answered 201 exists at its coordinator with every hold it placed; a
 * commit answered `committed` ended committed at every owner; a release answered `released` left
 * no hold held; a transfer answered 201 exists at its source with its `transfer-out` entry.
 */
export function checkAcknowledgedWrites({ history, snapshot }: CheckInput): Violation[] {
  const violations: Violation[] = [];
  const ledgerByKey = groupBy(
    snapshot.ledger.filter((e) => e.idempotencyKey),
    (e) => e.idempotencyKey!,
  );
  const reservations = new Map(snapshot.reservations.map((r) => [r.id, r]));
  const holds = new Map(snapshot.holds.map((h) => [h.id, h]));
  const transfers = new Map(snapshot.transfers.map((t) => [t.id, t]));
  const report = (request: RequestRecord, message: string): void => {
    violations.push({
      check: 'acknowledged-writes',
      message: `request ${request.seq} (${request.op} ${request.path}): ${message}`,
      excerpt: [request],
    });
  };
  for (const r of requests(history)) {
    if (r.status === undefined || r.status >= 300) continue;
    const answer = r.answer;
    switch (r.op) {
      case 'adjust':
      case 'count':
        if (r.idempotencyKey && !ledgerByKey.has(r.idempotencyKey))
          report(r, `answered ${r.status} but no ledger entry carries key ${r.idempotencyKey}`);
        break;
      case 'transfer': {
        const id = String(field(answer, 'id'));
        if (!transfers.has(id)) report(r, `answered ${r.status} but transfer ${id} is not recorded at ${regionOfId(id)}`);
        if (r.idempotencyKey && !(ledgerByKey.get(r.idempotencyKey) ?? []).some((e) => e.kind === 'transfer-out'))
          report(r, `answered ${r.status} but no transfer-out entry carries key ${r.idempotencyKey}`);
        break;
      }
      case 'reserve': {
        const id = String(field(answer, 'id'));
        const reservation = reservations.get(id);
        if (!reservation) report(r, `answered ${r.status} but reservation ${id} is not recorded at ${regionOfId(id)}`);
        else
          for (const a of reservation.allocations.filter((x) => x.state !== 'refused' && x.state !== 'intent')) {
            if (!holds.has(`${id}.${a.allocationNo}`))
              report(r, `reservation ${id} is held but its owner ${a.region} has no hold ${id}.${a.allocationNo}`);
          }
        break;
      }
      case 'commit':
      case 'release': {
        const status = field(answer, 'status');
        const id = decodeURIComponent(r.path.split('/')[3] ?? '');
        const reservation = reservations.get(id);
        const want = r.op === 'commit' ? 'committed' : 'released';
        if (status !== want) break; // a 202 committing is a promise the settled state is checked for elsewhere
        if (!reservation) report(r, `answered ${want} but reservation ${id} is not recorded`);
        else if (reservation.status !== want) report(r, `answered ${want} but reservation ${id} is now ${reservation.status}`);
        const own = snapshot.holds.filter((h) => h.reservationId === id && h.quantity > 0);
        const wrong = own.filter((h) => (want === 'committed' ? h.status !== 'committed' : h.status === 'held'));
        if (wrong.length > 0) report(r, `answered ${want} but holds ${wrong.map((h) => `${h.id} (${h.status})`).join(', ')}`);
        break;
      }
      default:
        break;
    }
  }
  return violations;
}

/**
 * Every reservation is final, or held and still alive with every allocation held at its owner.
 * Nothing may be left `pending` or `committing` once the cluster has settled, no final reservation
 * may keep an open allocation, and none may end `commit-failed`: a hold is only lost when its
 * owner released it without being told, which a run shorter than the owners' grace period
 * (`STOCKMESH_HOLD_GRACE_SECONDS`, 300 s) can only reach through a bug.
 */
export function checkReservationsFinal({ history, snapshot }: CheckInput): Violation[] {
  const violations: Violation[] = [];
  const holds = new Map(snapshot.holds.map((h) => [h.id, h]));
  const report = (r: ReservationRow, message: string): void => {
    violations.push({
      check: 'reservations-final',
      message: `reservation ${r.id} (${r.status}): ${message}`,
      excerpt: excerpt(history, r.id),
    });
  };
  for (const r of snapshot.reservations) {
    const open = r.allocations.filter((a) => a.state === 'intent' || a.state === 'held');
    if (r.status === 'held') {
      if (r.expiresAt === null || r.expiresAt <= snapshot.takenAt)
        report(r, `expired at ${new Date(r.expiresAt ?? 0).toISOString()} but is still held`);
      for (const a of r.allocations) {
        if (a.state !== 'held') continue;
        const hold = holds.get(`${r.id}.${a.allocationNo}`);
        if (hold?.status !== 'held')
          report(r, `allocation ${a.allocationNo} is held but its hold at ${a.region} is ${hold?.status ?? 'missing'}`);
      }
    } else if (r.status === 'commit-failed') {
      report(
        r,
        `an owner lost a hold: ${r.allocations
          .filter((a) => a.state === 'lost')
          .map((a) => `${r.id}.${a.allocationNo} at ${a.region}`)
          .join(', ')}`,
      );
    } else if (!FINAL.has(r.status)) {
      report(r, `still ${r.status} after the cluster settled`);
    } else if (open.length > 0) {
      report(
        r,
        `final, but allocations ${open.map((a) => `${a.allocationNo} (${a.state}, target ${a.target ?? 'none'})`).join(', ')} are still open`,
      );
    }
  }
  return violations;
}

/**
 * No hold without a live reservation, and owners agree with coordinators: a hold held at its owner
 * belongs to a reservation that is held and counts it as held; a committed hold to a committed
 * reservation; and every allocation the coordinator counts as committed is committed at its owner.
 */
export function checkNoOrphanHolds({ history, snapshot }: CheckInput): Violation[] {
  const violations: Violation[] = [];
  const reservations = new Map(snapshot.reservations.map((r) => [r.id, r]));
  const holds = new Map(snapshot.holds.map((h) => [h.id, h]));
  const report = (id: string, message: string): void => {
    violations.push({ check: 'no-orphan-holds', message, excerpt: excerpt(history, id) });
  };
  const allocationOf = (h: HoldRow): { r?: ReservationRow; state?: string } => {
    const r = reservations.get(h.reservationId);
    const no = Number(h.id.slice(h.reservationId.length + 1));
    return { r, state: r?.allocations.find((a) => a.allocationNo === no)?.state };
  };
  for (const h of snapshot.holds) {
    if (h.quantity === 0) continue; // a tombstone: a release that arrived before its place
    const { r, state } = allocationOf(h);
    if (h.status === 'held' && (r?.status !== 'held' || state !== 'held'))
      report(
        h.reservationId,
        `hold ${h.id} (${h.quantity} of ${rowKey(h)}) is held at ${h.ownerRegion}, but its reservation is ${r?.status ?? 'unknown'} with the allocation ${state ?? 'unknown'}`,
      );
    if (h.status === 'committed' && state !== 'committed')
      report(
        h.reservationId,
        `hold ${h.id} is committed at ${h.ownerRegion}, but its reservation is ${r?.status ?? 'unknown'} with the allocation ${state ?? 'unknown'}`,
      );
  }
  for (const r of snapshot.reservations) {
    for (const a of r.allocations) {
      const hold = holds.get(`${r.id}.${a.allocationNo}`);
      if (a.state === 'committed' && hold?.status !== 'committed')
        report(r.id, `allocation ${r.id}.${a.allocationNo} is committed, but its hold at ${a.region} is ${hold?.status ?? 'missing'}`);
    }
  }
  return violations;
}

/**
 * Every transfer is settled: `completed` with a `received` receipt at the destination,
 * `returned` with a `refused` one, or `cancelled` with a `cancelled` tombstone; none is left
 * `pending` once the cluster has settled (the run is far shorter than the transfer timeout, so a
 * pending transfer with every region up and every outbox empty is stuck), and no destination
 * settled a transfer its source never recorded.
 */
export function checkTransfersSettled({ history, snapshot }: CheckInput): Violation[] {
  const violations: Violation[] = [];
  const receipts = new Map(snapshot.receipts.map((r) => [r.transferId, r]));
  const transfers = new Set(snapshot.transfers.map((t) => t.id));
  const report = (id: string, message: string): void => {
    violations.push({ check: 'transfers-settled', message: `transfer ${id}: ${message}`, excerpt: excerpt(history, id) });
  };
  for (const t of snapshot.transfers) {
    if (t.fromRegion === t.toRegion) continue; // settled in the source's own transaction, no receipt
    const receipt = receipts.get(t.id);
    if (t.status === 'pending') report(t.id, `still pending after the cluster settled (receipt: ${receipt?.outcome ?? 'none'})`);
    else if (t.status === 'completed' && receipt?.outcome !== 'received')
      report(t.id, `completed, but the destination's receipt is ${receipt?.outcome ?? 'missing'}`);
    else if (t.status === 'returned' && receipt?.outcome !== 'refused')
      report(t.id, `returned, but the destination's receipt is ${receipt?.outcome ?? 'missing'}`);
    else if (t.status === 'cancelled' && receipt?.outcome !== 'cancelled')
      report(t.id, `cancelled, but the destination's receipt is ${receipt?.outcome ?? 'missing'}`);
  }
  for (const r of snapshot.receipts)
    if (!transfers.has(r.transferId)) report(r.transferId, `${r.region} settled it (${r.outcome}) but its source never recorded it`);
  return violations;
}

/** Every region's view of every row is the owner's: same onHand, reserved and version; none missing, none extra. */
export function checkReplicasMatchOwners({ history, snapshot }: CheckInput): Violation[] {
  const violations: Violation[] = [];
  const owners = new Map(snapshot.stock.map((r) => [rowKey(r), r]));
  const state = (r: StockRow): string => `onHand ${r.onHand}, reserved ${r.reserved}, v${r.version}`;
  for (const region of snapshot.regions) {
    const replicas = new Map(snapshot.replicas.filter((r) => r.heldBy === region).map((r) => [rowKey(r), r]));
    for (const [key, owner] of owners) {
      if (owner.region === region) continue;
      const replica = replicas.get(key);
      if (!replica || state(replica) !== state(owner))
        violations.push({
          check: 'replicas-match-owners',
          message: `${region}'s replica of ${key} is ${replica ? state(replica) : 'missing'}; the owner ${owner.region} has ${state(owner)}`,
          excerpt: excerpt(history, owner.warehouseId, owner.sku),
        });
    }
    for (const [key, replica] of replicas) {
      const owner = owners.get(key);
      if (!owner || owner.region === region)
        violations.push({
          check: 'replicas-match-owners',
          message: `${region} has a replica of ${key} (${state(replica)}) that ${owner ? 'it owns itself' : 'no owner has'}`,
          excerpt: excerpt(history, replica.warehouseId, replica.sku),
        });
    }
  }
  return violations;
}

const CHECKERS: Readonly<Record<CheckName, (input: CheckInput) => Violation[]>> = {
  'no-oversell': checkNoOversell,
  'ledger-continuity': checkLedgerContinuity,
  'reserved-matches-holds': checkReservedMatchesHolds,
  conservation: checkConservation,
  'acknowledged-writes': checkAcknowledgedWrites,
  'reservations-final': checkReservationsFinal,
  'no-orphan-holds': checkNoOrphanHolds,
  'transfers-settled': checkTransfersSettled,
  'replicas-match-owners': checkReplicasMatchOwners,
};

/** Every check's violations, by check, in `CHECKS` order. */
export function checkAll(input: CheckInput): Map<CheckName, Violation[]> {
  return new Map(CHECKS.map((name) => [name, CHECKERS[name](input)]));
}

/** Does the settled snapshot still show work in flight? What the run waits on before it checks. */
export function unsettled(snapshot: ClusterSnapshot): string[] {
  const reasons: string[] = [];
  for (const [region, pending] of Object.entries(snapshot.outboxPending))
    if (pending > 0) reasons.push(`${region}: ${pending} events in its outboxes`);
  const busy = snapshot.reservations.filter(
    (r) =>
      r.status === 'pending' ||
      r.status === 'committing' ||
      (FINAL.has(r.status) && r.allocations.some((a) => a.state === 'intent' || a.state === 'held')),
  );
  if (busy.length > 0)
    reasons.push(
      `${busy.length} reservations not finished (${busy
        .slice(0, 3)
        .map((r) => `${r.id} ${r.status}`)
        .join(', ')})`,
    );
  // Also those about to expire: the snapshot reads the regions one after the other, and an expiry
  // acted on between the coordinator's read and an owner's would look like a disagreement.
  const lapsed = snapshot.reservations.filter(
    (r) => r.status === 'held' && r.expiresAt !== null && r.expiresAt <= snapshot.takenAt + EXPIRY_MARGIN_MS,
  );
  if (lapsed.length > 0) reasons.push(`${lapsed.length} held reservations past or near their expiry`);
  const received = new Set(snapshot.receipts.map((r) => r.transferId));
  const pending = snapshot.transfers.filter((t) => t.status === 'pending');
  if (pending.length > 0)
    reasons.push(`${pending.length} transfers pending (${pending.filter((t) => received.has(t.id)).length} received)`);
  const replicaGaps = checkReplicasMatchOwners({ history: [], snapshot }).length;
  if (replicaGaps > 0) reasons.push(`${replicaGaps} replica rows differ from their owners`);
  return reasons;
}
