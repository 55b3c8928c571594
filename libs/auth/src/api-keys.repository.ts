import { Injectable } from '@nestjs/common';
import type { ApiKeyChangedData, ApiScope } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import type { ApiKeyRecord } from './api-key.js';

interface ApiKeyRow {
  id: string;
  name: string;
  scopes: ApiScope[];
  secret_hash: string;
  region: string;
  version: string;
  created_at: Date;
  revoked_at: Date | null;
  channel: string | null;
}

const COLUMNS = 'id, name, scopes, secret_hash, region, version, created_at, revoked_at, channel';

const toRecord = (row: ApiKeyRow): ApiKeyRecord => ({
  id: row.id,
  name: row.name,
  scopes: row.scopes,
  secretHash: row.secret_hash,
  region: row.region,
  version: Number(row.version),
  createdAt: row.created_at.toISOString(),
  revokedAt: row.revoked_at?.toISOString() ?? null,
  channel: row.channel,
});

export interface NewApiKey {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly ApiScope[];
  readonly secretHash: string;
  readonly region: string;
  readonly channel: string | null;
}

/** The `api_keys` table of the region's home database: every key of the cluster, own and replicated. */
@Injectable()
export class ApiKeysRepository {
  async insert(tx: SqlTx, key: NewApiKey): Promise<ApiKeyRecord> {
    const [row] = await tx.query<ApiKeyRow>(
      `INSERT INTO api_keys (id, name, scopes, secret_hash, region, channel) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [key.id, key.name, key.scopes, key.secretHash, key.region, key.channel],
    );
    return toRecord(row);
  }

  async find(tx: SqlTx, id: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await tx.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return row && toRecord(row);
  }

  async list(tx: SqlTx): Promise<ApiKeyRecord[]> {
    return (await tx.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`)).map(toRecord);
  }

  /** Revokes a valid key (bumping its version); `undefined` when there is none, or it was revoked already. */
  async revoke(tx: SqlTx, id: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await tx.query<ApiKeyRow>(
      `UPDATE api_keys SET revoked_at = now(), version = version + 1, updated_at = now()
       WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
      [id],
    );
    return row && toRecord(row);
  }

  /**
   * Merges a key another region made or revoked. The version only grows and a revocation is
   * never undone (PostgreSQL's LEAST ignores NULL, so a revoked_at once set stays, at the
   * earliest revocation seen): an older event, a duplicate, or two regions revoking at once all
   * end in the same row everywhere. Name, scopes, hash and channel never change after the key is made.
   */
  async applyReplica(tx: SqlTx, key: ApiKeyChangedData): Promise<void> {
    await tx.query(
      `INSERT INTO api_keys (id, name, scopes, secret_hash, region, version, created_at, revoked_at, channel, updated_at, applied_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), now())
       ON CONFLICT (id) DO UPDATE SET version = GREATEST(api_keys.version, EXCLUDED.version),
         revoked_at = LEAST(api_keys.revoked_at, EXCLUDED.revoked_at), updated_at = now(), applied_at = now()
       WHERE api_keys.version < EXCLUDED.version OR (api_keys.revoked_at IS NULL AND EXCLUDED.revoked_at IS NOT NULL)`,
      [key.id, key.name, key.scopes, key.secretHash, key.region, key.version, key.createdAt, key.revokedAt, key.channel ?? null],
    );
  }
}
