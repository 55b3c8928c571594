import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, startTestRegion, TEST_ADMIN_KEY, type TestRegion } from '@stockmesh/testing';
import fc from 'fast-check';
import pg from 'pg';

// Requests generated from the region's own OpenAPI document (/docs/json), over every operation:
// valid and invalid paths, query strings, headers (no key, malformed, unknown, revoked, a key
// without the scope), bodies and media types. Whatever comes in: never a 5xx; every 4xx is
// problem+json of the documented shape, with a status (and code) the document lists for the
// operation; and a refused request changes nothing in PostgreSQL (stock, ledger, holds,
// transfers, warehouses, keys, outbox), compared before and after each request.
// FUZZ_RUNS_PER_OPERATION and FUZZ_SEED change the run (a failure prints the seed).

// By default just enough runs per operation for MIN_TOTAL requests in all (about 3 minutes on 2 cores).
const RUNS_PER_OPERATION = process.env.FUZZ_RUNS_PER_OPERATION ? Number(process.env.FUZZ_RUNS_PER_OPERATION) : undefined;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const MIN_TOTAL = 10_000;

type Schema = {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
};
interface Parameter {
  readonly in: 'path' | 'query' | 'header';
  readonly name: string;
  readonly required?: boolean;
  readonly schema: Schema;
}
interface Operation {
  readonly operationId: string;
  readonly parameters: Parameter[];
  readonly requestBody?: { content: Record<string, { schema: Schema }> };
  readonly responses: Record<string, { 'x-problem-codes'?: string[] }>;
  readonly 'x-required-scope'?: string;
}
interface Document {
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { schemas: Record<string, Schema> };
}

/** Operations that read Kafka topics when asked: with replication off (this suite's region) they answer 503 not-ready. */
const NEEDS_KAFKA = new Set(['listDeadLetters', 'replayDeadLetter', 'rebuildReplicas']);

/** One generated request, with what the checks need to know about how it was made. */
interface FuzzRequest {
  readonly path: string;
  readonly query: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** A path parameter was made outside its pattern (the router may answer 404 or 414 then). */
  readonly oddPath: boolean;
}

let region: TestRegion;
let db: pg.Client;
let doc: Document;
/** Ids the region answered with, so that requests also reach real resources. */
const known = {
  warehouseId: ['fz-1', 'fz-2'],
  sku: ['SKU-1', 'SKU-2', 'SKU-3'],
  reservation: [] as string[],
  transfer: [] as string[],
  apiKey: [] as string[],
};
const keys: Record<string, string> = {};

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });
const anyString = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), printable);

/** A value of a schema of the document (bounded), or sometimes just beside it. */
function valueOf(schema: Schema, name = '', depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) return valueOf(doc.components.schemas[schema.$ref.split('/').pop() ?? ''], name, depth);
  const exact = exactValueOf(schema, name, depth);
  return schema.nullable ? fc.oneof(exact, fc.constant(null)) : exact;
}

function exactValueOf(schema: Schema, name: string, depth: number): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'object': {
      const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, s]) => [k, valueOf(s, k, depth + 1)]));
      return fc.record(properties, { requiredKeys: schema.required ?? [] });
    }
    case 'array':
      return fc.array(valueOf(schema.items ?? {}, name, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? -1_000_000;
      const max = schema.maximum ?? 1_000_000;
      // Reservations that outlive the run: an expiry in the background would change rows between two snapshots.
      if (name === 'ttlSeconds')
        return fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 3_600, max }) }, fc.constantFrom(min - 1, max + 1));
      // Small values most of the time, so that writes succeed and stock is not used up at once.
      return fc.oneof({ weight: 4, arbitrary: fc.integer({ min: Math.max(min, -5), max: Math.min(max, 20) }) }, fc.integer({ min, max }));
    }
    case 'boolean':
      return fc.boolean();
    default:
      return stringFor(name, schema);
  }
}

/** A string for a field or parameter: a known id most of the time, else one of its pattern, else anything. */
function stringFor(name: string, schema: Schema): fc.Arbitrary<string> {
  const pools: Record<string, () => string[]> = {
    warehouseId: () => known.warehouseId,
    fromWarehouseId: () => known.warehouseId,
    toWarehouseId: () => known.warehouseId,
    sku: () => known.sku,
    skus: () => known.sku,
    region: () => ['us-east', 'eu-west'], // eu-west is not in the cluster: refused
  };
  const pool = pools[name]?.() ?? [];
  const shaped = schema.pattern
    ? fc.stringMatching(new RegExp(schema.pattern))
    : fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) });
  return pool.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...pool) }, shaped) : shaped;
}

/** encodeURIComponent, which throws on a lone surrogate: that one goes as the bytes of one. */
function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80';
  }
}

/** A path parameter: an id the region made, one of its pattern, or something odd. */
function pathValue(operationPath: string, parameter: Parameter): fc.Arbitrary<{ value: string; odd: boolean }> {
  const ids = operationPath.startsWith('/v1/reservations')
    ? known.reservation
    : operationPath.startsWith('/v1/transfers')
      ? known.transfer
      : operationPath.startsWith('/v1/api-keys')
        ? known.apiKey
        : [];
  const example = (parameter.schema as { example?: string }).example;
  const good = fc.oneof(
    { weight: 5, arbitrary: ids.length > 0 ? fc.constantFrom(...ids) : stringFor(parameter.name, parameter.schema) },
    { weight: 2, arbitrary: stringFor(parameter.name, parameter.schema) },
    fc.constant(example ?? 'x'),
  );
  const odd = fc.oneof(
    anyString.map(encode),
    fc.constantFrom(
      '%',
      '%zz',
      '%00',
      '..',
      '.',
      '%2e%2e',
      '%2F',
      'a%2Fb',
      '%20',
      '~',
      'x'.repeat(65),
      'x'.repeat(200),
      `${example ?? 'x'}%0a`,
    ),
  );
  return fc.oneof(
    { weight: 4, arbitrary: good.map((value) => ({ value: encode(value), odd: ['', '.', '..'].includes(value) })) },
    odd.map((value) => ({ value, odd: true })),
  );
}

/** The Authorization header: none, malformed, unknown, revoked, a key without the scope, or a good one. */
function authorization(scope: string | undefined): fc.Arbitrary<string | undefined> {
  const withoutScope = scope === 'stock:read' ? keys.catalog : scope === 'admin' ? keys.storefront : keys.reader;
  const bad = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom('Basic YWRtaW46YWRtaW4=', 'Bearer', 'Bearer ', 'bearer  x y', `Bearer ${keys.revoked}`, `Bearer ${withoutScope}`),
    fc.constantFrom(
      `Bearer ${keys.storefront.slice(0, -3)}abc`,
      `Bearer smk_0123456789abcdef_${'A'.repeat(43)}`,
      `Bearer ${TEST_ADMIN_KEY}x`,
    ),
    printable.map((s) => `Bearer ${s}`),
    printable,
  );
  // Mostly a key that may call the operation, so that most requests get past the guard.
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant(`Bearer ${TEST_ADMIN_KEY}`) },
    { weight: 2, arbitrary: fc.constantFrom(keys.storefront, keys.wms, keys.catalog, keys.reader).map((k) => `Bearer ${k}`) },
    { weight: 2, arbitrary: bad },
  );
}

const MALFORMED_BODIES = ['', '{', '{"a":', 'null', '[]', '"x"', '1e999', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}'];

/** A body: mostly one of the schema, else one beside it, any JSON, or not JSON at all. */
function bodyFor(operation: Operation): fc.Arbitrary<{ body?: string; contentType?: string }> {
  const schema = operation.requestBody?.content['application/json']?.schema;
  const json = fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8');
  const media = fc.oneof(
    { weight: 8, arbitrary: json },
    fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/problem+json'),
  );
  const anyJson = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null');
  if (!schema) {
    return fc.oneof({ weight: 6, arbitrary: fc.constant({}) }, fc.record({ body: anyJson, contentType: json }));
  }
  const valid = valueOf(schema) as fc.Arbitrary<Record<string, unknown>>;
  const beside = fc.tuple(valid, fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })).map(([value, field, junk]) => {
    const names = Object.keys(value);
    // Replace an existing field with junk, or add an unknown one.
    const target = names.length > 0 && junk !== null ? names[field.length % names.length] : field || 'extra';
    return JSON.stringify({ ...value, [target]: junk });
  });
  const dropped = valid.map((value) => JSON.stringify(Object.fromEntries(Object.entries(value).slice(1))));
  return fc.oneof(
    { weight: 10, arbitrary: fc.record({ body: valid.map((v) => JSON.stringify(v)), contentType: media }) },
    { weight: 3, arbitrary: fc.record({ body: fc.oneof(beside, dropped), contentType: json }) },
    { weight: 2, arbitrary: fc.record({ body: anyJson, contentType: json }) },
    fc.record({ body: fc.constantFrom(...MALFORMED_BODIES), contentType: json }),
    fc.constant({}),
  );
}

function requestFor(path: string, operation: Operation): fc.Arbitrary<FuzzRequest> {
  const pathParameters = operation.parameters.filter((p) => p.in === 'path');
  const queryParameters = operation.parameters.filter((p) => p.in === 'query');
  const idempotency = operation.parameters.find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
  const query = fc
    .tuple(
      ...queryParameters.map((p) =>
        fc.option(
          fc.oneof(
            valueOf(p.schema, p.name).map(String),
            fc.constantFrom('-1', '0', '1e3', '1.5', '99999999999999999999', 'abc', ''),
            anyString,
          ),
        ),
      ),
      fc.option(fc.constantFrom('x=1', 'limit=1&limit=2', 'before[a]=1', '__proto__=1', 'a')),
    )
    .map((values) => {
      const extra = values.pop() as string | null;
      const pairs = values.flatMap((v, i) => (v === null ? [] : [`${queryParameters[i].name}=${encode(String(v))}`]));
      return [...pairs, ...(extra ? [extra] : [])].join('&');
    });
  const idempotencyKey = idempotency
    ? fc.option(
        fc.oneof({ weight: 5, arbitrary: fc.uuid() }, fc.constantFrom('fuzz-reused-1', 'fuzz reused', '', 'k'.repeat(300)), printable),
        {
          freq: idempotency.required ? 8 : 2,
        },
      )
    : fc.constant(null);
  const regionOnly = fc.option(
    fc.constantFrom<Record<string, string>>(
      { 'stockmesh-forwarded-from': 'eu-west' },
      { 'stockmesh-caller': Buffer.from(JSON.stringify({ keyId: 'x', name: 'x', scopes: ['admin'] })).toString('base64url') },
      { 'x-actor': 'mallory' },
      { 'x-request-id': 'fuzz' },
    ),
    { freq: 4 },
  );
  return fc
    .record({
      parts: fc.tuple(...pathParameters.map((p) => pathValue(path, p))),
      query,
      auth: authorization(operation['x-required-scope']),
      idempotencyKey,
      regionOnly,
      body: bodyFor(operation),
    })
    .map(({ parts, query, auth, idempotencyKey, regionOnly, body }) => {
      let filled = path;
      pathParameters.forEach((p, i) => (filled = filled.replace(`{${p.name}}`, parts[i].value)));
      const headers: Record<string, string> = { ...(regionOnly ?? {}) };
      if (auth !== undefined) headers.authorization = auth;
      if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
      if (body.contentType && body.body !== undefined) headers['content-type'] = body.contentType;
      return { path: filled, query, headers, body: body.body, oddPath: parts.some((p) => p.odd) };
    });
}

/**
 * What a refused request must not change. `reservations` and `idempotency_keys` are left out:
 * they record refused requests on purpose (a cart refused for stock is kept as `failed`, so that
 * its Idempotency-Key replays the refusal); what a reservation holds is in `holds` and `stock`.
 * `net` is what a cart refused for stock must leave as it was (see `SAGA_REFUSALS`).
 */
async function state(withNet: boolean): Promise<Record<string, string>> {
  const whole = (table: string): string => `(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM ${table} t)`;
  const appended = (table: string): string => `(SELECT count(*) || ':' || coalesce(max(seq), 0) FROM ${table})`;
  const { rows } = await db.query<Record<string, string>>(
    `SELECT ${whole('stock')} AS stock, ${appended('stock_movements')} AS ledger, ${whole('holds')} AS holds,
            ${whole('transfers')} AS transfers, ${whole('warehouses')} AS warehouses, ${whole('api_keys')} AS api_keys,
            ${appended('outbox')} AS outbox${withNet ? NET : ''}`,
  );
  return rows[0];
}

/** The net columns: read only for the operation `SAGA_REFUSALS` names, to keep the other requests cheap. */
const NET = `,
            (SELECT md5(coalesce(string_agg(concat_ws(' ', warehouse_id, sku, on_hand, reserved), '|' ORDER BY warehouse_id, sku), '')) FROM stock) AS net_stock,
            (SELECT md5(coalesce(string_agg(id, '|' ORDER BY id), '')) FROM holds WHERE status <> 'released') AS net_holds,
            (SELECT coalesce(sum(delta), 0)::text FROM stock_movements) AS net_ledger`;

/** The part of `state()` that must not change even when only the net effect is nothing. */
const net = (s: Record<string, string>): Record<string, string> => ({
  stock: s.net_stock,
  holds: s.net_holds,
  ledger: s.net_ledger,
  transfers: s.transfers,
  warehouses: s.warehouses,
  api_keys: s.api_keys,
});

/**
 * A cart is held line by line at each owner (a saga across regions): one refused for stock after
 * some lines were held releases those holds before it answers. So the ledger gains hold and
 * release entries and the rows new versions, while counts, holds and every other table end as
 * they were: for these refusals the suite checks that net effect (docs/reservations.md).
 */
const SAGA_REFUSALS = new Set(['createReservation insufficient-stock']);

function operations(): { method: string; path: string; operation: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ method, path, operation })),
  );
}

/** Remembers ids from accepted answers, so that later requests reach what earlier ones made. */
function remember(operationId: string, body: Record<string, unknown>): void {
  const id = typeof body.id === 'string' ? body.id : undefined;
  if (!id) return;
  if (operationId === 'createReservation' && !known.reservation.includes(id)) known.reservation.push(id);
  if (operationId === 'createTransfer' && !known.transfer.includes(id)) known.transfer.push(id);
  if (operationId === 'createApiKey' && !known.apiKey.includes(id)) known.apiKey.push(id);
}

beforeAll(async () => {
  // A cluster of this one region: nothing is forwarded to a region that is not running.
  region = await startTestRegion('fuzz', { STOCKMESH_REGIONS: 'us-east', STOCKMESH_SHARDS: '4', STOCKMESH_DATABASES_PER_REGION: '1' });
  db = new pg.Client({ connectionString: region.config.region.databases[0].url });
  await db.connect();
  for (const w of known.warehouseId) await call(region, 'PUT', `/v1/warehouses/${w}`, { body: { region: 'us-east', name: w } });
  for (const w of known.warehouseId)
    for (const sku of known.sku) await call(region, 'PUT', `/v1/warehouses/${w}/stock/${sku}`, { body: { onHand: 1000 } });
  const make = async (name: string, scopes: string[]): Promise<{ id: string; key: string }> =>
    (await call<{ id: string; key: string }>(region, 'POST', '/v1/api-keys', { body: { name, scopes } })).body;
  keys.storefront = (await make('fuzz-storefront', ['stock:read', 'reservations:write'])).key;
  keys.wms = (await make('fuzz-wms', ['stock:write', 'stock:read'])).key;
  keys.catalog = (await make('fuzz-catalog', ['catalog:write'])).key;
  keys.reader = (await make('fuzz-reader', ['stock:read'])).key;
  const revoked = await make('fuzz-revoked', ['admin']);
  expect((await call(region, 'DELETE', `/v1/api-keys/${revoked.id}`)).status).toBe(204);
  keys.revoked = revoked.key;
  doc = (await call<Document>(region, 'GET', '/docs/json', { key: null })).body;
}, 60_000);

afterAll(async () => {
  await db?.end();
  await region?.close();
});

describe('requests generated from the OpenAPI document', () => {
  it(`get no 5xx, documented problem answers, and change nothing when refused (seed ${SEED})`, async () => {
    const all = operations();
    expect(all.length).toBeGreaterThanOrEqual(21);
    const tally = { total: 0, accepted: 0, refused: 0, byStatus: {} as Record<number, number>, stateMs: 0, ms: 0 };
    for (const [index, { method, path, operation }] of all.entries()) {
      const withNet = operation.operationId === 'createReservation';
      let before = await state(withNet);
      await fc.assert(
        fc.asyncProperty(requestFor(path, operation), async (request) => {
          const started = performance.now();
          const response = await fetch(`${region.url}${request.path}${request.query ? `?${request.query}` : ''}`, {
            method: method.toUpperCase(),
            headers: request.headers,
            // fetch sends no body with a GET.
            body: method === 'get' ? undefined : request.body,
            signal: AbortSignal.timeout(30_000),
          });
          const text = await response.text();
          const asked = performance.now();
          const after = await state(withNet);
          tally.stateMs += performance.now() - asked;
          const status = response.status;
          tally.total++;
          tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
          const what = `${method.toUpperCase()} ${request.path}?${request.query} ${JSON.stringify(request.headers)} ${request.body ?? ''} -> ${status} ${text.slice(0, 300)}`;
          // This region runs without Kafka: operations that read its topics on request say so.
          const offline = NEEDS_KAFKA.has(operation.operationId) && status === 503 && JSON.parse(text).code === 'not-ready';
          expect([what, status < 500 || offline]).toEqual([what, true]);
          const documented = Object.keys(operation.responses).map(Number);
          // The router answers a path it cannot match or decode before the operation is known, and
          // fetch resolves dot segments, so that `/v1/transfers/./cancel` may be another route (405).
          const allowed = request.oddPath ? [...documented, 400, 404, 405, 414] : documented;
          expect([what, allowed.includes(status)]).toEqual([what, true]);
          if (status >= 400) {
            tally.refused++;
            expect([what, response.headers.get('content-type')]).toEqual([what, 'application/problem+json; charset=utf-8']);
            const problem = JSON.parse(text) as Record<string, unknown>;
            expect([what, problem]).toEqual([
              what,
              expect.objectContaining({
                type: `https://stockmesh.dev/problems/${String(problem.code)}`,
                title: expect.any(String),
                status,
                code: expect.any(String),
              }),
            ]);
            const codes = operation.responses[String(status)]?.['x-problem-codes'];
            if (codes && !request.oddPath) expect([what, codes.includes(String(problem.code))]).toEqual([what, true]);
            if (problem.errors !== undefined) {
              expect([what, problem.errors]).toEqual([
                what,
                expect.arrayContaining([expect.objectContaining({ field: expect.any(String), constraint: expect.any(String) })]),
              ]);
            }
            // A refused request changes nothing (a cart refused for stock: nothing in the end).
            if (SAGA_REFUSALS.has(`${operation.operationId} ${String(problem.code)}`))
              expect([what, net(after)]).toEqual([what, net(before)]);
            else expect([what, after]).toEqual([what, before]);
          } else {
            tally.accepted++;
            remember(operation.operationId, text ? (JSON.parse(text) as Record<string, unknown>) : {});
          }
          before = after;
          tally.ms += performance.now() - started;
        }),
        { numRuns: RUNS_PER_OPERATION ?? Math.ceil(MIN_TOTAL / all.length), seed: SEED + index, endOnFailure: true },
      );
    }
    console.log(
      `openapi fuzz: ${tally.total} requests over ${all.length} operations (seed ${SEED}): ${tally.accepted} accepted, ${tally.refused} refused; by status ${JSON.stringify(tally.byStatus)}; ${Math.round(tally.ms / 1000)} s, of which ${Math.round(tally.stateMs / 1000)} s comparing states`,
    );
    expect(tally.total).toBeGreaterThanOrEqual(MIN_TOTAL);
  }, 600_000);

  // The fuzz above finds this only when its JSON happens to hold a `__proto__` key: asked of every
  // write here, those that take no body included (the server parses a body whatever the route).
  it('refuses a JSON body with a __proto__ key as malformed-json, documented on every write', async () => {
    const writes = operations().filter(({ method }) => method !== 'get');
    expect(writes.length).toBeGreaterThanOrEqual(10);
    for (const { method, path, operation } of writes) {
      const response = await fetch(`${region.url}${path.replace(/\{[^}]+\}/g, 'x')}`, {
        method: method.toUpperCase(),
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
        body: '{"__proto__":{"polluted":true}}',
      });
      const problem = (await response.json()) as { code?: string };
      const what = `${method.toUpperCase()} ${path}`;
      expect([what, response.status, problem.code]).toEqual([what, 400, 'malformed-json']);
      expect([what, operation.responses['400']?.['x-problem-codes']]).toEqual([what, expect.arrayContaining(['malformed-json'])]);
    }
  });
});
