// The chaos run's clients: each sends one request at a time (the machine is small and shared) to
// a random region, mixing reservations of 1 to 3 lines that it then commits, releases or lets
// expire, adjustments, counts, and transfers between warehouses of different regions. Every
// request and answer goes to the history; nothing is retried, so an unanswered request stays an
// open question the checker must find consistent either way.
import { setTimeout as delay } from 'node:timers/promises';
import type { HttpClient } from '../../bench/bench-support.js';
import type { Operation, RequestRecord } from './chaos-history.js';
import type { Random } from './chaos-random.js';

export interface Warehouse {
  readonly id: string;
  readonly region: string;
}

export interface World {
  readonly regions: readonly { readonly id: string; readonly url: string }[];
  readonly warehouses: readonly Warehouse[];
  readonly skus: readonly string[];
}

export type Send = (
  client: string,
  op: Operation,
  region: string,
  method: string,
  path: string,
  body?: unknown,
  key?: string,
) => Promise<RequestRecord>;

/** Sends one request and records it; `record` numbers it and appends it to the history. */
export function sender(http: HttpClient, world: World, record: (request: Omit<RequestRecord, 'type' | 'seq'>) => RequestRecord): Send {
  return async (client, op, region, method, path, body, key) => {
    const url = world.regions.find((r) => r.id === region)!.url;
    const sentAt = Date.now();
    const headers: Record<string, string> = { 'x-actor': `chaos-${client}` };
    if (key) headers['idempotency-key'] = key;
    const result = await http.send(method, `${url.replace(/\/$/, '')}${path}`, body, headers);
    let answer: unknown = undefined;
    if (result.body) {
      try {
        answer = JSON.parse(result.body);
      } catch {
        answer = result.body.slice(0, 500);
      }
    }
    return record({
      client,
      op,
      region,
      method,
      path,
      ...(key ? { idempotencyKey: key } : {}),
      ...(body === undefined ? {} : { body }),
      sentAt,
      answeredAt: Date.now(),
      ...(result.status > 0 ? { status: result.status, answer } : { error: result.error ?? 'no answer' }),
    });
  };
}

const field = (answer: unknown, name: string): unknown =>
  typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>)[name] : undefined;

/** One client's loop until `signal` aborts; the request in flight is finished, not abandoned. */
export async function runClient(
  name: string,
  world: World,
  send: Send,
  random: Random,
  keyPrefix: string,
  signal: AbortSignal,
): Promise<void> {
  let n = 0;
  const key = (): string => `${keyPrefix}-${name}-${++n}`;
  const region = (): string => random.pick(world.regions).id;
  while (!signal.aborted) {
    const roll = random.next();
    if (roll < 0.45) {
      const skus = [...world.skus].sort(() => random.next() - 0.5).slice(0, random.between(1, 3));
      const plan = random.pick(['commit', 'commit', 'release', 'expire'] as const);
      const lines = skus.map((sku) => ({
        sku,
        quantity: random.between(1, 3),
        ...(random.chance(0.2) ? { warehouseId: random.pick(world.warehouses).id } : {}),
      }));
      // A short TTL for the ones left to expire: the coordinator's sweeper must expire them and
      // release their holds within the run.
      const body = { lines, ttlSeconds: plan === 'expire' ? random.between(2, 6) : 120, reference: `chaos-${name}-${n + 1}` };
      const made = await send(name, 'reserve', region(), 'POST', '/v1/reservations', body, key());
      const id = field(made.answer, 'id');
      if (made.status === 201 && typeof id === 'string' && plan !== 'expire') {
        await delay(random.between(0, 300));
        await send(name, plan, region(), 'POST', `/v1/reservations/${encodeURIComponent(id)}/${plan}`);
      }
    } else if (roll < 0.7) {
      const w = random.pick(world.warehouses);
      const sku = random.pick(world.skus);
      const delta = random.chance(0.7) ? random.between(1, 10) : -random.between(1, 4);
      await send(
        name,
        'adjust',
        region(),
        'POST',
        `/v1/warehouses/${w.id}/stock/${sku}/adjustments`,
        { delta, reason: delta > 0 ? 'received' : 'damaged' },
        key(),
      );
    } else if (roll < 0.75) {
      const w = random.pick(world.warehouses);
      await send(
        name,
        'count',
        region(),
        'PUT',
        `/v1/warehouses/${w.id}/stock/${random.pick(world.skus)}`,
        { onHand: random.between(20, 60) },
        key(),
      );
    } else {
      const from = random.pick(world.warehouses);
      const to = random.pick(world.warehouses.filter((w) => w.region !== from.region));
      const body = { sku: random.pick(world.skus), fromWarehouseId: from.id, toWarehouseId: to.id, quantity: random.between(1, 3) };
      await send(name, 'transfer', region(), 'POST', '/v1/transfers', body, key());
    }
    await delay(random.between(20, 120));
  }
}
