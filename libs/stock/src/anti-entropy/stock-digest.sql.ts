import { DIGEST_BUCKETS } from '@stockmesh/contracts';

// SQL fragments shared by the two repositories that digest rows (owners' `stock`, replicas'
// `stock_replica`): both sides must compute exactly the same thing. MD5 is used for its
// stability across PostgreSQL versions and platforms (unlike hashtext), not for security.

/** A row's bucket: the first byte of MD5(`warehouse_id/sku`) modulo the bucket count (see `bucketOf`). */
export const DIGEST_BUCKET_SQL = `get_byte(decode(md5(warehouse_id || '/' || sku), 'hex'), 0) % ${DIGEST_BUCKETS}`;

/**
 * A row's hash: the first 64 bits of MD5(`warehouse_id/sku/version/on_hand/reserved`), followed by
 * `/safety_stock` when that is not 0 and by `incoming_digest` (`/` and the MD5 of the incoming
 * receipts' JSON, '' without receipts) and `/b<backordered>` when units are backordered, as a bigint. A row without safety stock or receipts hashes
 * as it did before those columns existed, so regions on either side of those upgrades still agree
 * on such rows; a row whose safety stock or receipts differ (same version, a replica that missed
 * them) hashes differently and is repaired. Both tables store the receipts as `jsonb`, whose text
 * form is canonical (keys in one order), so equal receipts give equal digests on either side.
 */
const ROW_HASH_SQL = `('x' || substr(md5(warehouse_id || '/' || sku || '/' || version || '/' || on_hand || '/' || reserved
                      || CASE WHEN safety_stock = 0 THEN '' ELSE '/' || safety_stock END || incoming_digest
                      || CASE WHEN backordered = 0 THEN '' ELSE '/b' || backordered END), 1, 16))::bit(64)::bigint`;

/**
 * Per non-empty bucket of the rows `where` selects from `table`: the row count and the XOR of the
 * row hashes as 16 hex digits, and whether the `moved` expression holds for any of them. XOR makes it independent of row order; rows are unique by key, so
 * none cancels another.
 */
export function bucketDigestSql(table: 'stock' | 'stock_replica', where: string, moved = 'false'): string {
  return `SELECT bucket, count(*)::int AS rows, lpad(to_hex(bit_xor(h)), 16, '0') AS hash, bool_or(moved) AS moved
          FROM (SELECT ${DIGEST_BUCKET_SQL} AS bucket, ${ROW_HASH_SQL} AS h, ${moved} AS moved FROM ${table} WHERE ${where}) r
          GROUP BY bucket ORDER BY bucket`;
}
