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
  /**
   * The shards the cluster file puts in it. Absent for a spare database: one that hosts no shard
   * until shards are moved into it (`stockmesh shards move`).
   */
  readonly shards?: ShardRange;
}

/**
 * Maps each logical shard of a region onto the physical database that hosts it.
 *
 * The cluster file's ranges are checked once at construction: every shard in `[0, shardCount)`
 * is hosted by exactly one database. Shards moved online since (see `ShardMover`) are the map's
 * overrides, with a version that only grows: `assign` applies a newer version in place, so every
 * holder of this object routes by it at once. Shard 0 (the home database's) never moves.
 */
export class ShardMap {
  private readonly boot: readonly ShardDatabase[];
  private byShard: readonly ShardDatabase[];
  private current = 0;

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
      if (db.shards === undefined) continue;
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
    this.boot = byShard as ShardDatabase[];
    this.byShard = this.boot;
  }

  /** The version of the overrides in force: 0 while every shard is where the cluster file puts it. */
  get version(): number {
    return this.current;
  }

  /** The database hosting `shard`. */
  databaseFor(shard: number): ShardDatabase {
    const db = this.byShard[shard];
    if (db === undefined) throw new RangeError(`shard ${shard} is outside 0-${this.shardCount - 1}`);
    return db;
  }

  /** The database the cluster file puts `shard` in, wherever it has moved since. */
  bootDatabaseFor(shard: number): ShardDatabase {
    const db = this.boot[shard];
    if (db === undefined) throw new RangeError(`shard ${shard} is outside 0-${this.shardCount - 1}`);
    return db;
  }

  /** The database named `name`; throws when the region has none of that name. */
  database(name: string): ShardDatabase {
    const db = this.databases.find((d) => d.name === name);
    if (!db) throw new RangeError(`no database named ${name}`);
    return db;
  }

  /** The shards the named database hosts now, in order (none for a spare). */
  shardsOf(name: string): number[] {
    this.database(name);
    const shards: number[] = [];
    this.byShard.forEach((db, shard) => db.name === name && shards.push(shard));
    return shards;
  }

  /**
   * Applies version `version` of the overrides (shard → database name; the shards not named stay
   * where the cluster file puts them). An older or equal version is ignored, so polls that answer
   * out of order never move a shard back. Throws, changing nothing, when an override names a
   * database the cluster file does not list or moves shard 0.
   */
  assign(version: number, overrides: ReadonlyMap<number, string>): boolean {
    if (version <= this.current) return false;
    const next = [...this.boot];
    for (const [shard, name] of overrides) {
      if (!Number.isInteger(shard) || shard < 0 || shard >= this.shardCount) {
        throw new RangeError(`shard map version ${version}: shard ${shard} is outside 0-${this.shardCount - 1}`);
      }
      const db = this.databases.find((d) => d.name === name);
      if (!db) throw new RangeError(`shard map version ${version} puts shard ${shard} in ${name}, which is not in the cluster file`);
      if (shard === 0 && db !== this.boot[0]) throw new RangeError(`shard map version ${version} moves shard 0, which never moves`);
      next[shard] = db;
    }
    this.byShard = next;
    this.current = version;
    return true;
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
