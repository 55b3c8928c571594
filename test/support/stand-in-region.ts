import { ShardDatabases } from '@stockmesh/persistence';
import { shardOf } from '@stockmesh/sharding';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestRegion } from './test-region.js';

/** What a stand-in region answers to one call. */
export interface StandInAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * Another region's internal listener played by the test: a real HTTP server on a loopback port
 * that answers each call (its method, path and JSON body) as the test says. It does not check
 * signatures. `peerEnv` makes a test region of `STOCKMESH_REGIONS=us-east,eu-west` see it as eu-west.
 */
export class StandInRegion {
  private readonly server: Server;

  constructor(answer: (method: string, path: string, body: unknown, headers: IncomingHttpHeaders) => StandInAnswer) {
    this.server = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        const { status, body } = answer(request.method ?? 'GET', request.url ?? '/', text ? JSON.parse(text) : undefined, request.headers);
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      });
    });
  }

  /** Listens on a free port and returns the environment that makes it eu-west's internal listener. */
  async listen(): Promise<Record<string, string>> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const port = (this.server.address() as AddressInfo).port;
    return {
      STOCKMESH_REGIONS: 'us-east,eu-west',
      // eu-west's internal listener is the internal base port + 1; no public port of eu-west is bound.
      STOCKMESH_INTERNAL_BASE_PORT: String(port - 1),
      STOCKMESH_BASE_PORT: String(port + 100),
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Writes a row of a stand-in region's stock into `region`'s replica, as if it had been replicated. */
export async function seedReplicaRow(
  region: TestRegion,
  row: { readonly warehouseId: string; readonly sku: string; readonly region: string; readonly onHand: number },
): Promise<void> {
  const databases = region.app.get(ShardDatabases);
  const shard = shardOf(row.sku, region.config.cluster.shardCount);
  await databases.inDatabase(databases.databaseFor(shard), (tx) =>
    tx.query(
      `INSERT INTO stock_replica (warehouse_id, sku, shard, region, on_hand, reserved, version, updated_at, event_id)
       VALUES ($1, $2, $3, $4, $5, 0, 1, now(), 'test')`,
      [row.warehouseId, row.sku, shard, row.region, row.onHand],
    ),
  );
}
