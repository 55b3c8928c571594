import { Injectable } from '@nestjs/common';
import type { KitChangedData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import type { KitComponentView, KitView } from './kit.js';

interface KitRow {
  sku: string;
  region: string;
  components: KitComponentView[];
  version: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'sku, region, components, version, created_at, updated_at';

const toView = (row: KitRow): KitView => ({
  sku: row.sku,
  region: row.region,
  components: row.components.map((c) => ({ sku: c.sku, quantity: c.quantity })),
  version: Number(row.version),
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export interface KitFields {
  readonly sku: string;
  readonly region: string;
  readonly components: readonly KitComponentView[];
}

/** The `kits` table of the region's home database (beside `warehouses` and `channels`: the catalog). */
@Injectable()
export class KitRepository {
  /** The row, locked for the rest of the transaction, or `undefined`. */
  async lock(tx: SqlTx, sku: string): Promise<KitView | undefined> {
    const [row] = await tx.query<KitRow>(`SELECT ${COLUMNS} FROM kits WHERE sku = $1 FOR UPDATE`, [sku]);
    return row && toView(row);
  }

  /** Inserts the kit, or returns `undefined` if a concurrent transaction (or a replica) has the SKU. */
  async insert(tx: SqlTx, k: KitFields): Promise<KitView | undefined> {
    const [row] = await tx.query<KitRow>(
      `INSERT INTO kits (sku, region, components) VALUES ($1, $2, $3)
       ON CONFLICT (sku) DO NOTHING RETURNING ${COLUMNS}`,
      [k.sku, k.region, JSON.stringify(k.components)],
    );
    return row && toView(row);
  }

  /** Changes the components; the region of a kit never changes. */
  async update(tx: SqlTx, k: KitFields): Promise<KitView> {
    const [row] = await tx.query<KitRow>(
      `UPDATE kits SET components = $2, version = version + 1, updated_at = now() WHERE sku = $1 RETURNING ${COLUMNS}`,
      [k.sku, JSON.stringify(k.components)],
    );
    return toView(row);
  }

  /** The kits among `skus` (any order); the others are plain SKUs as far as this region knows. */
  async findMany(tx: SqlTx, skus: readonly string[]): Promise<KitView[]> {
    if (skus.length === 0) return [];
    return (await tx.query<KitRow>(`SELECT ${COLUMNS} FROM kits WHERE sku = ANY($1::text[])`, [skus])).map(toView);
  }

  /** The kits that take any of `skus` as a component. */
  async containing(tx: SqlTx, skus: readonly string[]): Promise<KitView[]> {
    const rows = await tx.query<KitRow>(
      `SELECT ${COLUMNS} FROM kits k
       WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(k.components) c WHERE c->>'sku' = ANY($1::text[]))
       ORDER BY sku`,
      [skus],
    );
    return rows.map(toView);
  }

  async list(tx: SqlTx): Promise<KitView[]> {
    return (await tx.query<KitRow>(`SELECT ${COLUMNS} FROM kits ORDER BY sku`)).map(toView);
  }

  /**
   * Stores another region's kit unless this catalog has that version or a newer one. A SKU
   * already defined as a kit by a different region is a conflict (naming that region) and changes nothing.
   */
  async applyReplica(
    tx: SqlTx,
    k: KitChangedData,
  ): Promise<{ kind: 'applied' | 'unchanged' } | { kind: 'conflict'; region: string | undefined }> {
    const components = k.components.map((c) => ({ sku: c.sku, quantity: c.quantity }));
    const changed = await tx.query(
      `INSERT INTO kits (sku, region, components, version, created_at, updated_at, applied_at)
       VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (sku) DO UPDATE SET components = EXCLUDED.components,
         version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, applied_at = now()
       WHERE kits.region = EXCLUDED.region AND kits.version < EXCLUDED.version
       RETURNING 1 AS changed`,
      [k.sku, k.region, JSON.stringify(components), k.version, k.createdAt, k.updatedAt],
    );
    if (changed.length === 1) return { kind: 'applied' };
    const [row] = await tx.query<{ region: string }>(`SELECT region FROM kits WHERE sku = $1`, [k.sku]);
    return row?.region === k.region ? { kind: 'unchanged' } : { kind: 'conflict', region: row?.region };
  }
}
