import { DIGEST_BUCKETS, type DigestBucketDto } from '@stockmesh/contracts';
import { createHash } from 'node:crypto';

/** One non-empty bucket of a digest, as computed here or received. */
export type BucketDigest = Pick<DigestBucketDto, 'bucket' | 'rows' | 'hash'>;

/**
 * The bucket of a row: the first byte of MD5(`warehouseId/sku`) modulo the bucket count. The
 * repositories compute the same in SQL (`DIGEST_BUCKET_SQL`); the state topic's rows are sorted
 * into buckets here.
 */
export function bucketOf(warehouseId: string, sku: string): number {
  return createHash('md5').update(`${warehouseId}/${sku}`).digest()[0] % DIGEST_BUCKETS;
}

/** Every bucket, for a repair of a whole shard (after a gap). */
export const ALL_BUCKETS: readonly number[] = Array.from({ length: DIGEST_BUCKETS }, (_, i) => i);

/**
 * The buckets whose row count or hash differ, ascending. A bucket absent on one side has no rows
 * there. Throws a RangeError when one side names a bucket twice (the caller's input is bad).
 */
export function differingBuckets(theirs: readonly BucketDigest[], ours: readonly BucketDigest[]): number[] {
  const index = (list: readonly BucketDigest[]): Map<number, string> => {
    const map = new Map<number, string>();
    for (const b of list) {
      if (map.has(b.bucket)) throw new RangeError(`bucket ${b.bucket} appears twice`);
      map.set(b.bucket, `${b.rows}:${b.hash}`);
    }
    return map;
  };
  const a = index(theirs);
  const b = index(ours);
  return [...new Set([...a.keys(), ...b.keys()])].filter((bucket) => a.get(bucket) !== b.get(bucket)).sort((x, y) => x - y);
}
