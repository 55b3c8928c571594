import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ShardDatabases } from '@stockmesh/persistence';
import { call, seedReplicaRow, StandInRegion, startTestRegion, type TestRegion } from '@stockmesh/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

// W3C traceparent across regions and into events, on the real PostgreSQL: us-east in-process, and
// a stand-in eu-west (its internal listener) that records the headers of the calls it gets.
const W = 'trace-nyc-1';
const calls: { method: string; path: string; headers: IncomingHttpHeaders }[] = [];
const owner = new StandInRegion((method, path, _body, headers) => {
  calls.push({ method, path, headers });
  return method === 'PUT' ? { status: 201, body: {} } : { status: 200, body: {} };
});
let region: TestRegion;

const newTraceparent = (): { traceId: string; parentId: string; header: string } => {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
};

/** The `ce_traceparent` headers of the outbox rows of `sku`, oldest first. */
async function eventTraces(sku: string): Promise<(string | undefined)[]> {
  const databases = region.app.get(ShardDatabases);
  const rows = await Promise.all(
    databases
      .all()
      .map((db) =>
        databases.read(db, (tx) =>
          tx.query<{ traceparent: string | null }>(
            `SELECT headers ->> 'ce_traceparent' AS traceparent FROM outbox WHERE key = $1 AND topic LIKE '%stock.v1' ORDER BY seq`,
            [sku],
          ),
        ),
      ),
  );
  return rows.flat().map((r) => r.traceparent ?? undefined);
}

beforeAll(async () => {
  region = await startTestRegion('tracing', await owner.listen());
  expect((await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: W } })).status).toBe(201);
  await seedReplicaRow(region, { warehouseId: 'trace-fra-1', sku: 'SKU-FAR', region: 'eu-west', onHand: 10 });
}, 60_000);

afterAll(async () => {
  await region?.close();
  await owner.close();
});

describe('traceparent', () => {
  it('is carried from a checkout to the owner region it holds at, with this region as the parent span', async () => {
    const trace = newTraceparent();
    const made = await call<{ status: string }>(region, 'POST', '/v1/reservations', {
      body: { lines: [{ sku: 'SKU-FAR', quantity: 1 }] },
      headers: { 'idempotency-key': randomUUID(), traceparent: trace.header },
    });
    expect(made.status).toBe(201);
    const place = calls.find((c) => c.method === 'PUT' && c.path.startsWith('/internal/v1/holds/'));
    expect(place).toBeDefined();
    const [version, traceId, parentId, flags] = String(place!.headers.traceparent).split('-');
    expect([version, traceId, flags]).toEqual(['00', trace.traceId, '01']);
    expect(parentId).toMatch(/^[0-9a-f]{16}$/);
    expect(parentId).not.toBe(trace.parentId);
  });

  it('goes with the events a request makes (ce_traceparent), and a request without one starts a trace', async () => {
    const trace = newTraceparent();
    const set = await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-TRACED`, {
      body: { onHand: 5 },
      headers: { traceparent: trace.header },
    });
    expect(set.status).toBe(200);
    const [first] = await eventTraces('SKU-TRACED');
    expect(first?.split('-').slice(0, 2)).toEqual(['00', trace.traceId]);

    const invalid = await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-TRACED`, {
      body: { onHand: 6 },
      headers: { traceparent: `00-${'0'.repeat(32)}-${trace.parentId}-01` },
    });
    expect(invalid.status).toBe(200);
    const untraced = await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-TRACED`, { body: { onHand: 7 } });
    expect(untraced.status).toBe(200);
    const traces = await eventTraces('SKU-TRACED');
    expect(traces).toHaveLength(3);
    const ids = traces.map((t) => t?.split('-')[1]);
    for (const id of ids.slice(1)) expect(id).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(3);
  });
});
