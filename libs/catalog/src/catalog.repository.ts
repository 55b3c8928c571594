import { Injectable } from '@nestjs/common';
import type { WarehouseChangedData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import type { WarehouseView } from './warehouse.js';

interface WarehouseRow {
  id: string;
  region: string;
  name: string;
  latitude: number | null;
  longitude: number | null;
  version: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, region, name, latitude, longitude, version, created_at, updated_at';

const toView = (row: WarehouseRow): WarehouseView => ({
  id: row.id,
  region: row.region,
  name: row.name,
  latitude: row.latitude,
  longitude: row.longitude,
  version: Number(row.version),
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export interface WarehouseFields {
  readonly id: string;
  readonly region: string;
  readonly name: string;
  readonly latitude: number | null;
  readonly longitude: number | null;
}

/** The `warehouses` table of the region's home database. */
@Injectable()
export class CatalogRepository {
  /** The row, locked for the rest of the transaction, or `undefined`. */
  async lock(tx: SqlTx, id: string): Promise<WarehouseView | undefined> {
    const [row] = await tx.query<WarehouseRow>(`SELECT ${COLUMNS} FROM warehouses WHERE id = $1 FOR UPDATE`, [id]);
    return row && toView(row);
  }

  /** Inserts the warehouse, or returns `undefined` if a concurrent transaction inserted it first. */
  async insert(tx: SqlTx, w: WarehouseFields): Promise<WarehouseView | undefined> {
    const [row] = await tx.query<WarehouseRow>(
      `INSERT INTO warehouses (id, region, name, latitude, longitude) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [w.id, w.region, w.name, w.latitude, w.longitude],
    );
    return row && toView(row);
  }

  /** Changes name and position; the region of a warehouse never changes. */
  async update(tx: SqlTx, w: WarehouseFields): Promise<WarehouseView> {
    const [row] = await tx.query<WarehouseRow>(
      `UPDATE warehouses SET name = $2, latitude = $3, longitude = $4, version = version + 1, updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [w.id, w.name, w.latitude, w.longitude],
    );
    return toView(row);
  }

  async regionOf(tx: SqlTx, id: string): Promise<string | undefined> {
    const [row] = await tx.query<{ region: string }>(`SELECT region FROM warehouses WHERE id = $1`, [id]);
    return row?.region;
  }

  /**
   * Stores another region's warehouse unless this catalog has that version or a newer one.
   * An id already held by a different region is a conflict (naming that region) and changes nothing.
   */
  async applyReplica(
    tx: SqlTx,
    w: WarehouseChangedData,
  ): Promise<{ kind: 'applied' | 'unchanged' } | { kind: 'conflict'; region: string | undefined }> {
    const changed = await tx.query(
      `INSERT INTO warehouses (id, region, name, latitude, longitude, version, created_at, updated_at, applied_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
         version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, applied_at = now()
       WHERE warehouses.region = EXCLUDED.region AND warehouses.version < EXCLUDED.version
       RETURNING 1 AS changed`,
      [w.id, w.region, w.name, w.latitude, w.longitude, w.version, w.createdAt, w.updatedAt],
    );
    if (changed.length === 1) return { kind: 'applied' };
    const region = await this.regionOf(tx, w.id);
    return region === w.region ? { kind: 'unchanged' } : { kind: 'conflict', region };
  }

  /** Which of `ids` the catalog holds (this region's warehouses and the replicated ones). */
  async known(tx: SqlTx, ids: readonly string[]): Promise<Set<string>> {
    const rows = await tx.query<{ id: string }>(`SELECT id FROM warehouses WHERE id = ANY($1::text[])`, [ids]);
    return new Set(rows.map((r) => r.id));
  }

  async list(tx: SqlTx): Promise<WarehouseView[]> {
    return (await tx.query<WarehouseRow>(`SELECT ${COLUMNS} FROM warehouses ORDER BY id`)).map(toView);
  }
}
