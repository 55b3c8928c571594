import { Injectable } from '@nestjs/common';
import type { ChannelChangedData } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import type { ChannelView } from './channel.js';

interface ChannelRow {
  id: string;
  region: string;
  name: string;
  warehouse_ids: string[];
  version: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, region, name, warehouse_ids, version, created_at, updated_at';

const toView = (row: ChannelRow): ChannelView => ({
  id: row.id,
  region: row.region,
  name: row.name,
  warehouseIds: row.warehouse_ids,
  version: Number(row.version),
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export interface ChannelFields {
  readonly id: string;
  readonly region: string;
  readonly name: string;
  readonly warehouseIds: readonly string[];
}

/** The `channels` table of the region's home database (beside `warehouses`: both are the catalog). */
@Injectable()
export class ChannelRepository {
  /** The row, locked for the rest of the transaction, or `undefined`. */
  async lock(tx: SqlTx, id: string): Promise<ChannelView | undefined> {
    const [row] = await tx.query<ChannelRow>(`SELECT ${COLUMNS} FROM channels WHERE id = $1 FOR UPDATE`, [id]);
    return row && toView(row);
  }

  /** Inserts the channel, or returns `undefined` if a concurrent transaction (or a replica) has the id. */
  async insert(tx: SqlTx, c: ChannelFields): Promise<ChannelView | undefined> {
    const [row] = await tx.query<ChannelRow>(
      `INSERT INTO channels (id, region, name, warehouse_ids) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [c.id, c.region, c.name, c.warehouseIds],
    );
    return row && toView(row);
  }

  /** Changes name and warehouses; the region of a channel never changes. */
  async update(tx: SqlTx, c: ChannelFields): Promise<ChannelView> {
    const [row] = await tx.query<ChannelRow>(
      `UPDATE channels SET name = $2, warehouse_ids = $3, version = version + 1, updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [c.id, c.name, c.warehouseIds],
    );
    return toView(row);
  }

  async find(tx: SqlTx, id: string): Promise<ChannelView | undefined> {
    const [row] = await tx.query<ChannelRow>(`SELECT ${COLUMNS} FROM channels WHERE id = $1`, [id]);
    return row && toView(row);
  }

  async list(tx: SqlTx): Promise<ChannelView[]> {
    return (await tx.query<ChannelRow>(`SELECT ${COLUMNS} FROM channels ORDER BY id`)).map(toView);
  }

  /**
   * Stores another region's channel unless this catalog has that version or a newer one. An id
   * already defined by a different region is a conflict (naming that region) and changes nothing.
   */
  async applyReplica(
    tx: SqlTx,
    c: ChannelChangedData,
  ): Promise<{ kind: 'applied' | 'unchanged' } | { kind: 'conflict'; region: string | undefined }> {
    const changed = await tx.query(
      `INSERT INTO channels (id, region, name, warehouse_ids, version, created_at, updated_at, applied_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now())
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, warehouse_ids = EXCLUDED.warehouse_ids,
         version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, applied_at = now()
       WHERE channels.region = EXCLUDED.region AND channels.version < EXCLUDED.version
       RETURNING 1 AS changed`,
      [c.id, c.region, c.name, c.warehouseIds, c.version, c.createdAt, c.updatedAt],
    );
    if (changed.length === 1) return { kind: 'applied' };
    const [row] = await tx.query<{ region: string }>(`SELECT region FROM channels WHERE id = $1`, [c.id]);
    return row?.region === c.region ? { kind: 'unchanged' } : { kind: 'conflict', region: row?.region };
  }
}
