/** A contiguous, inclusive range of logical shards hosted by one physical database. */
export interface ShardRange {
  readonly from: number;
  readonly to: number;
}

/** One physical PostgreSQL database of a region and the logical shards it hosts. */
export interface ShardDatabase {
  /** Stable name used in logs, metrics and health answers (e.g. `us-east/0`). */
  readonly name: string;
  /** Connection string of the database. */
  readonly url: string;
  readonly shards: ShardRange;
}

/**
 * Maps each logical shard of a region onto the physical database that hosts it.
 *
 * The map is checked once at construction: every shard in `[0, shardCount)` is hosted by exactly
 * one database. Moving a database to another server changes only its `url` here; moving shards
 * between databases needs a data migration and is out of scope.
 */
export class ShardMap {
  private readonly byShard: readonly ShardDatabase[];

  constructor(
    readonly shardCount: number,
    readonly databases: readonly ShardDatabase[],
  ) {
    if (!Number.isInteger(shardCount) || shardCount < 1) {
      throw new RangeError(`shardCount must be a positive integer, got ${shardCount}`);
    }
    if (databases.length === 0) throw new RangeError('a shard map needs at least one database');
    const byShard = new Array<ShardDatabase | undefined>(shardCount).fill(undefined);
    const names = new Set<string>();
    for (const db of databases) {
      if (names.has(db.name)) throw new RangeError(`database name ${db.name} is used twice`);
      names.add(db.name);
      const { from, to } = db.shards;
      if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to >= shardCount || from > to) {
        throw new RangeError(`database ${db.name}: shard range ${from}-${to} is not within 0-${shardCount - 1}`);
      }
      for (let shard = from; shard <= to; shard++) {
        const other = byShard[shard];
        if (other) throw new RangeError(`shard ${shard} is mapped to both ${other.name} and ${db.name}`);
        byShard[shard] = db;
      }
    }
    const missing = byShard.findIndex((db) => db === undefined);
    if (missing >= 0) throw new RangeError(`shard ${missing} is not mapped to any database`);
    this.byShard = byShard as ShardDatabase[];
  }

  /** The database hosting `shard`. */
  databaseFor(shard: number): ShardDatabase {
    const db = this.byShard[shard];
    if (db === undefined) throw new RangeError(`shard ${shard} is outside 0-${this.shardCount - 1}`);
    return db;
  }

  /** The shards hosted by the named database, in order. */
  shardsOf(name: string): number[] {
    const db = this.databases.find((d) => d.name === name);
    if (!db) throw new RangeError(`no database named ${name}`);
    return Array.from({ length: db.shards.to - db.shards.from + 1 }, (_, i) => db.shards.from + i);
  }
}

/**
 * Splits `shardCount` shards into `parts` contiguous ranges whose sizes differ by at most one
 * (16 shards over 2 databases: 0-7 and 8-15).
 */
export function splitShards(shardCount: number, parts: number): ShardRange[] {
  if (!Number.isInteger(parts) || parts < 1 || parts > shardCount) {
    throw new RangeError(`cannot split ${shardCount} shards into ${parts} databases`);
  }
  const ranges: ShardRange[] = [];
  let from = 0;
  for (let i = 0; i < parts; i++) {
    const size = Math.floor(shardCount / parts) + (i < shardCount % parts ? 1 : 0);
    ranges.push({ from, to: from + size - 1 });
    from += size;
  }
  return ranges;
}
