import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ShardDatabases } from '@stockmesh/persistence';
import { HoldAuditor } from '@stockmesh/reservations';
import { call, ManualClock, signedCall, StandInRegion, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';

// The owner's hold audit, in one region (us-east) on the real PostgreSQL, on a clock the test
// moves. us-east coordinates its own reservations; the holds of `eu-west`'s reservations are
// judged by a stand-in coordinator this test runs on eu-west's internal port.

/** Answers hold-verdicts calls with what the test sets, or 503 while down; records what it was asked. */
class StandInCoordinator {
  verdicts: Record<string, string> = {};
  up = true;
  asked: string[][] = [];
  readonly region = new StandInRegion((_method, _path, body) => {
    const { holdIds } = body as { holdIds: string[] };
    this.asked.push(holdIds);
    const verdicts = Object.fromEntries(holdIds.map((id) => [id, this.verdicts[id] ?? 'live']));
    return this.up ? { status: 200, body: { verdicts } } : { status: 503, body: { code: 'not-ready' } };
  });
}

interface StockAnswer {
  onHand: number;
  reserved: number;
}

const W = 'aud-1';
const coordinator = new StandInCoordinator();
const clock = new ManualClock();
let region: TestRegion;
let auditor: HoldAuditor;

const row = async (sku: string): Promise<StockAnswer> => (await call<StockAnswer>(region, 'GET', `/v1/warehouses/${W}/stock/${sku}`)).body;
const setStock = async (sku: string, onHand: number): Promise<void> => {
  expect((await call(region, 'PUT', `/v1/warehouses/${W}/stock/${sku}`, { body: { onHand } })).status).toBe(200);
};
const reserve = async (sku: string, quantity: number): Promise<string> => {
  const made = await call<{ id: string; status: string }>(region, 'POST', '/v1/reservations', {
    body: { lines: [{ sku, quantity }] },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(made.status).toBe(201);
  return made.body.id;
};
/** A hold placed at us-east as coordinator `from` would place it. */
const placeHold = async (reservationId: string, sku: string, quantity: number, from: string): Promise<string> => {
  const holdId = `${reservationId}.1`;
  const placed = await signedCall(region, 'PUT', `/internal/v1/holds/${holdId}`, {
    body: { reservationId, warehouseId: W, sku, quantity, ttlSeconds: 86_400 },
    from,
    at: clock.now(),
  });
  expect(placed.status).toBe(201);
  return holdId;
};
const home = <T extends object>(text: string, params: unknown[] = []): Promise<T[]> => {
  const databases = region.app.get(ShardDatabases);
  return databases.inDatabase(databases.home(), (tx) => tx.query<T>(text, params));
};
const holdStatus = async (holdId: string): Promise<string | undefined> => {
  const databases = region.app.get(ShardDatabases);
  const found = await Promise.all(
    databases
      .all()
      .map((db) => databases.read(db, (tx) => tx.query<{ status: string }>(`SELECT status FROM holds WHERE id = $1`, [holdId]))),
  );
  return found.flat()[0]?.status;
};

beforeAll(async () => {
  region = await startTestRegion(
    'holdaudit',
    {
      // eu-west's internal listener is the stand-in coordinator.
      ...(await coordinator.region.listen()),
      // The test runs each pass itself.
      STOCKMESH_HOLD_AUDIT_SECONDS: '86400',
      STOCKMESH_HOLD_AUDIT_MIN_AGE_SECONDS: '60',
    },
    { clock },
  );
  auditor = region.app.get(HoldAuditor);
  await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: W } });
}, 60_000);

afterAll(async () => {
  await region?.close();
  await coordinator.region.close();
});

describe('the owner audits its held holds with their coordinators', () => {
  it('releases the holds nobody wants, keeps live ones and anomalies, and leaves young holds alone', async () => {
    await setStock('SKU-AUD', 20);
    const live = await reserve('SKU-AUD', 1);
    // A reservation whose release never reached the owner: decided released, hold still held.
    const lostRelease = await reserve('SKU-AUD', 2);
    await home(`UPDATE reservations SET status = 'released' WHERE id = $1`, [lostRelease]);
    await home(`UPDATE reservation_allocations SET state = 'released' WHERE reservation_id = $1`, [lostRelease]);
    // Counted committed by the coordinator while the owner still holds it (a restored owner).
    const anomaly = await reserve('SKU-AUD', 3);
    await home(`UPDATE reservation_allocations SET state = 'committed' WHERE reservation_id = $1`, [anomaly]);
    // A hold whose coordinator (us-east itself) never heard of its reservation: a restored coordinator.
    const orphan = await placeHold(`us-east.${randomUUID()}`, 'SKU-AUD', 4, 'us-east');
    expect(await row('SKU-AUD')).toMatchObject({ onHand: 20, reserved: 10 });

    // Too young to be asked about.
    expect(await auditor.audit()).toMatchObject({ checked: 0, released: 0 });

    clock.advance(120_000);
    expect(await auditor.audit()).toMatchObject({ checked: 4, released: 2, anomalies: 1, unanswered: 0 });
    expect(await row('SKU-AUD')).toMatchObject({ onHand: 20, reserved: 4 });
    expect(await holdStatus(`${lostRelease}.1`)).toBe('released');
    expect(await holdStatus(orphan)).toBe('released');
    expect(await holdStatus(`${live}.1`)).toBe('held');
    expect(await holdStatus(`${anomaly}.1`)).toBe('held');
    const ledger = await call<{ items: { actor: string; kind: string }[] }>(region, 'GET', `/v1/warehouses/${W}/stock/SKU-AUD/movements`);
    expect(
      ledger.body.items
        .filter((m) => m.actor.startsWith('hold-audit:'))
        .map((m) => m.actor)
        .sort(),
    ).toEqual([`hold-audit:${lostRelease}`, `hold-audit:${orphan.slice(0, orphan.lastIndexOf('.'))}`].sort());

    // The live reservation still commits; a second pass changes nothing.
    expect((await call(region, 'POST', `/v1/reservations/${live}/commit`)).status).toBe(200);
    expect(await auditor.audit()).toMatchObject({ checked: 1, released: 0, anomalies: 1 });
    expect(await row('SKU-AUD')).toMatchObject({ onHand: 19, reserved: 3 });
  });

  it('asks another region about its holds, and leaves them held while it does not answer', async () => {
    await setStock('SKU-AUD-EU', 10);
    const kept = await placeHold(`eu-west.${randomUUID()}`, 'SKU-AUD-EU', 2, 'eu-west');
    const ended = await placeHold(`eu-west.${randomUUID()}`, 'SKU-AUD-EU', 3, 'eu-west');
    coordinator.verdicts = { [kept]: 'live', [ended]: 'ended' };
    clock.advance(120_000);

    coordinator.up = false;
    expect(await auditor.audit()).toMatchObject({ released: 0, unanswered: 2 });
    expect(await row('SKU-AUD-EU')).toMatchObject({ reserved: 5 });

    coordinator.up = true;
    coordinator.asked = [];
    expect(await auditor.audit()).toMatchObject({ released: 1, unanswered: 0 });
    expect(coordinator.asked.flat().sort()).toEqual([ended, kept].sort());
    expect(await row('SKU-AUD-EU')).toMatchObject({ reserved: 2 });
    expect(await holdStatus(kept)).toBe('held');
    const cluster = await call<{ holdAudit: Record<string, unknown> }>(region, 'GET', '/v1/cluster');
    expect(cluster.body.holdAudit).toEqual({
      at: new Date(clock.now()).toISOString(),
      checked: 3,
      released: 1,
      anomalies: 1,
      unanswered: 0,
    });
  });

  it('answers verdicts only to signed region calls, and only on its own reservations', async () => {
    const id = await reserve('SKU-AUD', 1);
    const other = `eu-west.${randomUUID()}.1`;
    const unknown = `us-east.${randomUUID()}.1`;
    const asked = await signedCall<{ verdicts: Record<string, string> }>(region, 'POST', '/internal/v1/hold-verdicts', {
      body: { holdIds: [`${id}.1`, other, unknown] },
      at: clock.now(),
    });
    expect(asked.status).toBe(200);
    expect(asked.body.verdicts).toEqual({ [`${id}.1`]: 'live', [other]: 'not-mine', [unknown]: 'unknown' });

    const bad = await signedCall(region, 'POST', '/internal/v1/hold-verdicts', { body: { holdIds: ['nope'] }, at: clock.now() });
    expect(bad.status).toBe(400);
    const tooMany = Array.from({ length: 501 }, () => unknown);
    expect((await signedCall(region, 'POST', '/internal/v1/hold-verdicts', { body: { holdIds: tooMany }, at: clock.now() })).status).toBe(
      400,
    );
    // A storefront's key on the public port does not reach it.
    expect((await call(region, 'POST', '/internal/v1/hold-verdicts', { body: { holdIds: [unknown] } })).status).toBe(404);
  });
});
