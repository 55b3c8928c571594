import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, startTestRegion, type TestRegion } from '@stockmesh/testing';

// Every bad request gets a clear 4xx problem+json answer, never a 500, and never a partial write.
let region: TestRegion;
const W = 'bad-1';
const row = `/v1/warehouses/${W}/stock/SKU-1`;

beforeAll(async () => {
  region = await startTestRegion('badinput', { STOCKMESH_BODY_LIMIT: '4096' });
  await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: 'Bad input DC' } });
  await call(region, 'PUT', row, { body: { onHand: 10 } });
}, 60_000);

afterAll(async () => {
  await region?.close();
});

interface Case {
  readonly name: string;
  readonly method: 'PUT' | 'POST' | 'GET';
  readonly url: string;
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
  readonly field?: string;
}

const adjust = `${row}/adjustments`;
const cases: Case[] = [
  {
    name: 'malformed JSON',
    method: 'POST',
    url: adjust,
    rawBody: '{"delta": 1,',
    headers: { 'content-type': 'application/json' },
    status: 400,
    code: 'malformed-json',
  },
  {
    name: 'empty JSON body',
    method: 'POST',
    url: adjust,
    rawBody: '',
    headers: { 'content-type': 'application/json' },
    status: 400,
    code: 'malformed-json',
  },
  { name: 'a JSON array', method: 'POST', url: adjust, body: [1, 2], status: 400, code: 'validation-failed' },
  { name: 'no body', method: 'POST', url: adjust, status: 400, code: 'validation-failed', field: 'delta' },
  {
    name: 'text/plain',
    method: 'POST',
    url: adjust,
    rawBody: 'delta=1',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'unsupported-media-type',
  },
  {
    name: 'form encoded',
    method: 'POST',
    url: adjust,
    rawBody: 'delta=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'unsupported-media-type',
  },
  {
    name: 'body over the limit',
    method: 'POST',
    url: adjust,
    body: { delta: 1, reason: 'received', pad: 'x'.repeat(5000) },
    status: 413,
    code: 'payload-too-large',
  },
  {
    name: 'prototype pollution',
    method: 'POST',
    url: adjust,
    rawBody: '{"__proto__":{"admin":true},"delta":1,"reason":"received"}',
    headers: { 'content-type': 'application/json' },
    status: 400,
    code: 'malformed-json',
  },
  {
    name: 'unknown field',
    method: 'POST',
    url: adjust,
    body: { delta: 1, reason: 'received', note: 'x' },
    status: 400,
    code: 'validation-failed',
    field: 'note',
  },
  {
    name: 'delta as a string',
    method: 'POST',
    url: adjust,
    body: { delta: '1', reason: 'received' },
    status: 400,
    code: 'validation-failed',
    field: 'delta',
  },
  {
    name: 'fractional delta',
    method: 'POST',
    url: adjust,
    body: { delta: 1.5, reason: 'received' },
    status: 400,
    code: 'validation-failed',
    field: 'delta',
  },
  {
    name: 'zero delta',
    method: 'POST',
    url: adjust,
    body: { delta: 0, reason: 'received' },
    status: 400,
    code: 'validation-failed',
    field: 'delta',
  },
  {
    name: 'huge delta',
    method: 'POST',
    url: adjust,
    body: { delta: 1e300, reason: 'received' },
    status: 400,
    code: 'validation-failed',
    field: 'delta',
  },
  {
    name: 'unsafe integer',
    method: 'POST',
    url: adjust,
    rawBody: '{"delta":9007199254740993,"reason":"received"}',
    headers: { 'content-type': 'application/json' },
    status: 400,
    code: 'validation-failed',
    field: 'delta',
  },
  {
    name: 'null delta',
    method: 'POST',
    url: adjust,
    body: { delta: null, reason: 'received' },
    status: 400,
    code: 'validation-failed',
    field: 'delta',
  },
  {
    name: 'unknown reason',
    method: 'POST',
    url: adjust,
    body: { delta: 1, reason: 'stolen; DROP TABLE stock' },
    status: 400,
    code: 'validation-failed',
    field: 'reason',
  },
  { name: 'negative count', method: 'PUT', url: row, body: { onHand: -1 }, status: 400, code: 'validation-failed', field: 'onHand' },
  { name: 'fractional count', method: 'PUT', url: row, body: { onHand: 2.5 }, status: 400, code: 'validation-failed', field: 'onHand' },
  {
    name: 'count over the maximum',
    method: 'PUT',
    url: row,
    body: { onHand: 1_000_000_001 },
    status: 400,
    code: 'validation-failed',
    field: 'onHand',
  },
  { name: 'count as boolean', method: 'PUT', url: row, body: { onHand: true }, status: 400, code: 'validation-failed', field: 'onHand' },
  {
    name: 'SQL injection in the SKU',
    method: 'PUT',
    url: `/v1/warehouses/${W}/stock/x'%3B%20DROP%20TABLE%20stock%3B--`,
    body: { onHand: 1 },
    status: 400,
    code: 'validation-failed',
    field: 'sku',
  },
  {
    name: 'SQL injection in the warehouse',
    method: 'POST',
    url: `/v1/warehouses/x'%20OR%20'1'%3D'1/stock/SKU-1/adjustments`,
    body: { delta: 1, reason: 'received' },
    status: 400,
    code: 'validation-failed',
    field: 'warehouseId',
  },
  {
    name: 'SKU over 64 characters',
    method: 'PUT',
    url: `/v1/warehouses/${W}/stock/${'S'.repeat(65)}`,
    body: { onHand: 1 },
    status: 400,
    code: 'validation-failed',
    field: 'sku',
  },
  {
    name: 'unknown warehouse',
    method: 'PUT',
    url: '/v1/warehouses/ghost-1/stock/SKU-1',
    body: { onHand: 1 },
    status: 404,
    code: 'warehouse-not-found',
  },
  { name: 'bad movements limit', method: 'GET', url: `${row}/movements?limit=abc`, status: 400, code: 'validation-failed', field: 'limit' },
  {
    name: 'movements limit too large',
    method: 'GET',
    url: `${row}/movements?limit=100000`,
    status: 400,
    code: 'validation-failed',
    field: 'limit',
  },
  {
    name: 'bad cursor',
    method: 'GET',
    url: `${row}/movements?before=1%20OR%201=1`,
    status: 400,
    code: 'validation-failed',
    field: 'before',
  },
  {
    name: 'Idempotency-Key too long',
    method: 'POST',
    url: adjust,
    body: { delta: 1, reason: 'received' },
    headers: { 'idempotency-key': 'k'.repeat(256) },
    status: 400,
    code: 'idempotency-key-invalid',
  },
  {
    name: 'warehouse without a name',
    method: 'PUT',
    url: '/v1/warehouses/new-1',
    body: { region: 'us-east' },
    status: 400,
    code: 'validation-failed',
    field: 'name',
  },
  {
    name: 'warehouse name of control characters',
    method: 'PUT',
    url: '/v1/warehouses/new-1',
    body: { region: 'us-east', name: '\u0000\u0007' },
    status: 400,
    code: 'validation-failed',
    field: 'name',
  },
  {
    name: 'latitude out of range',
    method: 'PUT',
    url: '/v1/warehouses/new-1',
    body: { region: 'us-east', name: 'N', latitude: 91, longitude: 0 },
    status: 400,
    code: 'validation-failed',
    field: 'latitude',
  },
  {
    name: '501 SKUs in one availability query',
    method: 'POST',
    url: '/v1/availability/query',
    body: { skus: Array.from({ length: 501 }, (_, i) => `S-${i}`) },
    status: 400,
    code: 'validation-failed',
    field: 'skus',
  },
  {
    name: 'no SKUs in an availability query',
    method: 'POST',
    url: '/v1/availability/query',
    body: { skus: [] },
    status: 400,
    code: 'validation-failed',
    field: 'skus',
  },
  {
    name: 'a SKU twice in an availability query',
    method: 'POST',
    url: '/v1/availability/query',
    body: { skus: ['A', 'A'] },
    status: 400,
    code: 'validation-failed',
    field: 'skus',
  },
  {
    name: 'SKUs that are not strings',
    method: 'POST',
    url: '/v1/availability/query',
    body: { skus: [1, { $ne: null }] },
    status: 400,
    code: 'validation-failed',
    field: 'skus',
  },
  {
    name: 'SQL injection in an availability SKU',
    method: 'GET',
    url: `/v1/availability/x'%20OR%201=1--`,
    status: 400,
    code: 'validation-failed',
    field: 'sku',
  },
  { name: 'unknown route', method: 'GET', url: '/v1/nothing-here', status: 404, code: 'not-found' },
];

describe('bad input', () => {
  it.each(cases)('$name → $status $code', async (c) => {
    const answer = await call(region, c.method, c.url, { body: c.body, rawBody: c.rawBody, headers: c.headers });
    expect(answer.status).toBe(c.status);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ status: c.status, code: c.code, type: `https://stockmesh.dev/problems/${c.code}` });
    expect(typeof answer.body.requestId).toBe('string');
    if (c.field) expect((answer.body.errors as { field: string }[]).map((e) => e.field)).toContain(c.field);
  });

  it('left the row and the catalog exactly as they were', async () => {
    expect((await call(region, 'GET', row)).body).toMatchObject({ onHand: 10, version: 1 });
    expect((await call<{ items: unknown[] }>(region, 'GET', `${row}/movements`)).body.items).toHaveLength(1);
    const ids = (await call<{ items: { id: string }[] }>(region, 'GET', '/v1/warehouses')).body.items.map((w) => w.id);
    expect(ids).toEqual([W]);
  });
});
