import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { shardOf, type ShardDatabase } from '@stockmesh/sharding';
import pg from 'pg';
import { SHARD_MAP_POLL_MS, type ShardDatabases } from '../shard-databases.service.js';

/** What a move is asked to do: these shards, from wherever they are now, to the database named `to`. */
export interface MoveRequest {
  readonly shards: readonly number[];
  readonly to: string;
}

/** What a move did. */
export interface MoveReport {
  readonly id: string;
  readonly shards: readonly number[];
  readonly from: string;
  readonly to: string;
  /** Copy rounds before the pause (the first copies everything, the next what changed meanwhile). */
  readonly rounds: number;
  /** Rows inserted, replaced or deleted in the new database, over every round. */
  readonly rowsCopied: number;
  /** How long writes to the moved shards were paused: from the freeze to the new database taking writes. */
  readonly pauseMs: number;
  /** The shard map's version the move put in force. */
  readonly mapVersion: number;
  readonly ms: number;
}

/** A move refused before it changed anything, or abandoned (everything undone). */
export class ShardMoveError extends Error {}

/**
 * One table holding rows of shards: how its rows are named (`keys`), which rows are a shard's
 * (`where`, with the shards as $1; or `skuColumn`, hashed here), which columns are the database's
 * own (`exclude`: a serial the new database assigns itself), and whether the move owns its rows
 * (`shared`: copied where missing, never deleted on either side).
 */
interface MovedTable {
  readonly name: string;
  readonly keys: readonly string[];
  readonly where?: string;
  readonly skuColumn?: string;
  readonly exclude?: readonly string[];
  readonly shared?: boolean;
}

/** Every table holding a shard's rows, parents (stock) first. The outbox is drained, not copied. */
const MOVED_TABLES: readonly MovedTable[] = [
  { name: 'stock', keys: ['warehouse_id', 'sku'], where: 'shard = ANY($1)' },
  { name: 'stock_movements', keys: ['id'], where: 'shard = ANY($1)', exclude: ['seq'] },
  { name: 'stock_replica', keys: ['warehouse_id', 'sku'], where: 'shard = ANY($1)' },
  { name: 'transfers', keys: ['id'], where: 'shard = ANY($1)' },
  { name: 'transfer_receipts', keys: ['transfer_id'], skuColumn: 'sku' },
  { name: 'holds', keys: ['id'], skuColumn: 'sku' },
  // Partition k of the stock and transfers topics is applied with shard k's rows; the catalog's
  // and the keys' one partition (0) lives with shard 0, which never moves.
  { name: 'consumer_positions', keys: ['topic', 'partition'], where: 'partition = ANY($1)' },
  // Stored answers of idempotent writes do not name their SKU: all are copied (a retry after the
  // move finds its answer where the shard is now); a key's answer never changes once stored.
  { name: 'idempotency_keys', keys: ['scope', 'key'], shared: true },
];

const CHUNK = 500;
/** Copy rounds before the pause stop once a round changed at most this many rows, or after MAX_ROUNDS. */
const SETTLED_ROWS = 200;
const MAX_ROUNDS = 8;
/** How long the freeze waits for the transactions in flight on the old database (and the outbox hand-over for its relay). */
const FREEZE_LOCK_TIMEOUT_MS = 3_000;

/**
 * Moves logical shards of this region from the database hosting them to another of its
 * databases (usually on another PostgreSQL server) while writes go on:
 *
 * 1. **Copy.** The new database fences the shards (`incoming`: only the mover writes them) and
 *    receives every row of theirs, then, round after round, what changed meanwhile: each round
 *    compares every row's digest on both sides and copies, replaces or deletes the difference.
 * 2. **Freeze.** The old database fences the shards (`frozen`) and the mover waits for the
 *    transactions begun before that to end; writes to them now fail with SMF01 and are retried by
 *    the instances (`ShardDatabases.inShard`).
 * 3. **Last copy and verify.** One more round, then a comparison that must find nothing. The
 *    shards' events not yet published move to the new database's outbox, in order.
 * 4. **Switch.** The home database's shard map gets a new version naming the new database; the
 *    old database's fence becomes `moved` for good. Every instance polls the version every
 *    SHARD_MAP_POLL_MS: after two polls, the new database lifts its fence and takes writes.
 * 5. **Retire.** The old copy is deleted.
 *
 * A move that fails before the switch is undone (the old database takes writes again, the copy is
 * deleted); one that fails after it is finished by the next move. One move at a time per region.
 */
export class ShardMover {
  private readonly logger = new Logger(ShardMover.name);

  constructor(private readonly databases: ShardDatabases) {}

  async move(request: MoveRequest): Promise<MoveReport> {
    const started = performance.now();
    const home = await connect(this.databases.home());
    try {
      const [{ locked }] = (await home.query(`SELECT pg_try_advisory_lock(hashtext('stockmesh shard move')) AS locked`)).rows as {
        locked: boolean;
      }[];
      if (!locked) throw new ShardMoveError('another shard move of this region is running');
      await this.finishLeftovers(home);
      await this.databases.refreshMap();
      const { shards, source, target } = this.plan(request);
      const id = randomUUID();
      await home.query(`INSERT INTO shard_moves (id, shards, source, target, state) VALUES ($1, $2, $3, $4, 'copying')`, [
        id,
        shards,
        source.name,
        target.name,
      ]);
      this.logger.log({ msg: 'moving shards', id, shards, from: source.name, to: target.name });
      const report = await this.run(home, id, shards, source, target);
      return { ...report, ms: Math.round(performance.now() - started) };
    } finally {
      await home.end().catch(() => undefined);
    }
  }

  /** The shards, the one database hosting them all now, and the target; throws ShardMoveError otherwise. */
  private plan(request: MoveRequest): { shards: number[]; source: ShardDatabase; target: ShardDatabase } {
    const count = this.databases.shardCount;
    const shards = [...new Set(request.shards)].sort((a, b) => a - b);
    if (shards.length === 0) throw new ShardMoveError('name at least one shard');
    for (const shard of shards) {
      if (!Number.isInteger(shard) || shard < 0 || shard >= count) throw new ShardMoveError(`shard ${shard} is outside 0-${count - 1}`);
      if (shard === 0)
        throw new ShardMoveError('shard 0 lives in the home database with the region’s catalog and reservations; it never moves');
    }
    const target = this.databases.all().find((db) => db.name === request.to);
    if (!target) {
      throw new ShardMoveError(
        `no database named ${request.to} in this region (${this.databases
          .all()
          .map((d) => d.name)
          .join(', ')})`,
      );
    }
    const sources = new Set(shards.map((shard) => this.databases.databaseFor(shard)));
    if (sources.size > 1)
      throw new ShardMoveError(
        `the shards live in several databases (${[...sources].map((d) => d.name).join(', ')}): move them one database at a time`,
      );
    const [source] = sources;
    if (source!.name === target.name) throw new ShardMoveError(`the shards already live in ${target.name}`);
    return { shards, source: source!, target };
  }

  private async run(
    home: pg.Client,
    id: string,
    shards: number[],
    source: ShardDatabase,
    target: ShardDatabase,
  ): Promise<Omit<MoveReport, 'ms'>> {
    const src = await connect(source, true);
    const dst = await connect(target, true);
    let switched = false;
    try {
      const count = this.databases.shardCount;
      // 1. Copy. A copy left by an abandoned move is replaced whole.
      await transaction(dst, async () => {
        await deleteRows(dst, shards, count);
        await dst.query(
          `INSERT INTO shard_fence (shard, state, move_id) SELECT s, 'incoming', $2 FROM unnest($1::smallint[]) s
           ON CONFLICT (shard) DO UPDATE SET state = 'incoming', move_id = $2, since = now()`,
          [shards, id],
        );
      });
      let rounds = 0;
      let rowsCopied = 0;
      for (;;) {
        const changed = await syncRound(src, dst, shards, count);
        rounds++;
        rowsCopied += changed;
        await home.query(`UPDATE shard_moves SET rounds = $2, rows_copied = $3 WHERE id = $1`, [id, rounds, rowsCopied]);
        if (changed <= SETTLED_ROWS || rounds >= MAX_ROUNDS) break;
      }
      // 2. Freeze: once the fence is committed, every statement that starts sees it; what remains
      // is the transactions already running, which may have written before it and commit later.
      await freeze(src, shards, id);
      const frozenAt = performance.now();
      await home.query(`UPDATE shard_moves SET state = 'frozen' WHERE id = $1`, [id]);
      // 3. Last copy, then a comparison that must find nothing; then the events not yet published.
      rowsCopied += await syncRound(src, dst, shards, count);
      const left = await syncRound(src, dst, shards, count, { dryRun: true });
      if (left !== 0) throw new ShardMoveError(`the copy still differs from the original in ${left} rows after the last round`);
      await handOverOutbox(src, dst, shards);
      // 4. Switch.
      const mapVersion = await transaction(home, async () => {
        const [{ version }] = (await home.query(`UPDATE shard_map_version SET version = version + 1 RETURNING version`)).rows as {
          version: string;
        }[];
        const boot = shards.filter((shard) => this.databases.bootDatabaseFor(shard).name === target.name);
        const away = shards.filter((shard) => !boot.includes(shard));
        await home.query(`DELETE FROM shard_map WHERE shard = ANY($1::smallint[])`, [boot]);
        await home.query(
          `INSERT INTO shard_map (shard, database, version) SELECT s, $2, $3 FROM unnest($1::smallint[]) s
           ON CONFLICT (shard) DO UPDATE SET database = $2, version = $3, updated_at = now()`,
          [away, target.name, version],
        );
        await home.query(`UPDATE shard_moves SET state = 'switched', map_version = $2 WHERE id = $1`, [id, version]);
        return version;
      });
      switched = true;
      await src.query(`UPDATE shard_fence SET state = 'moved', since = now() WHERE shard = ANY($1::smallint[])`, [shards]);
      await this.databases.refreshMap();
      // Every live instance reads the version within a poll; the new database takes writes after two.
      await sleep(2 * SHARD_MAP_POLL_MS + 50);
      await dst.query(`DELETE FROM shard_fence WHERE shard = ANY($1::smallint[])`, [shards]);
      const pauseMs = Math.round(performance.now() - frozenAt);
      // 5. Retire the old copy (the fence stays: nothing may write those shards there again).
      await transaction(src, () => deleteRows(src, shards, count));
      await home.query(`UPDATE shard_moves SET state = 'done', pause_ms = $2, rows_copied = $3, finished_at = now() WHERE id = $1`, [
        id,
        pauseMs,
        rowsCopied,
      ]);
      this.logger.log({ msg: 'moved shards', id, shards, from: source.name, to: target.name, rounds, rowsCopied, pauseMs });
      return { id, shards, from: source.name, to: target.name, rounds, rowsCopied, pauseMs, mapVersion: Number(mapVersion) };
    } catch (error) {
      if (!switched) {
        await undo(src, dst, shards, this.databases.shardCount, id).catch((e: Error) =>
          this.logger.error({ msg: 'could not undo a failed shard move; the next move finishes it', id, err: e.message }),
        );
        await home
          .query(`UPDATE shard_moves SET state = 'aborted', error = $2, finished_at = now() WHERE id = $1`, [id, (error as Error).message])
          .catch(() => undefined);
        if (!(error instanceof ShardMoveError)) throw new ShardMoveError(`the move failed and was undone: ${(error as Error).message}`);
      }
      throw error;
    } finally {
      await src.end().catch(() => undefined);
      await dst.end().catch(() => undefined);
    }
  }

  /**
   * A move this region's process left unfinished (it stopped): one that had switched is finished
   * (the new database takes writes, the old copy is deleted); any other is undone.
   */
  private async finishLeftovers(home: pg.Client): Promise<void> {
    const { rows } = await home.query(`SELECT id, shards, source, target, state FROM shard_moves WHERE state NOT IN ('done', 'aborted')`);
    for (const move of rows as { id: string; shards: number[]; source: string; target: string; state: string }[]) {
      const source = this.databases.all().find((d) => d.name === move.source);
      const target = this.databases.all().find((d) => d.name === move.target);
      if (!source || !target) continue;
      const src = await connect(source, true);
      const dst = await connect(target, true);
      try {
        if (move.state === 'switched') {
          await src.query(`UPDATE shard_fence SET state = 'moved', since = now() WHERE shard = ANY($1::smallint[])`, [move.shards]);
          await dst.query(`DELETE FROM shard_fence WHERE shard = ANY($1::smallint[]) AND move_id = $2`, [move.shards, move.id]);
          await transaction(src, () => deleteRows(src, move.shards, this.databases.shardCount));
          await home.query(`UPDATE shard_moves SET state = 'done', finished_at = now() WHERE id = $1`, [move.id]);
        } else {
          await undo(src, dst, move.shards, this.databases.shardCount, move.id);
          await home.query(`UPDATE shard_moves SET state = 'aborted', error = 'left unfinished', finished_at = now() WHERE id = $1`, [
            move.id,
          ]);
        }
        this.logger.warn({ msg: 'finished a shard move left unfinished', id: move.id, was: move.state });
      } finally {
        await src.end().catch(() => undefined);
        await dst.end().catch(() => undefined);
      }
    }
  }
}

/** A dedicated session; `mover` lets it write fenced shards (the triggers let `stockmesh.shard_mover = on` pass). */
async function connect(db: ShardDatabase, mover = false): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: db.url, application_name: `stockmesh shard mover ${db.name}` });
  await client.connect();
  if (mover) await client.query(`SET stockmesh.shard_mover = 'on'`);
  return client;
}

async function transaction<T>(client: pg.Client, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Undoes a move not switched: the old database takes writes again, the copy is deleted. */
async function undo(src: pg.Client, dst: pg.Client, shards: number[], count: number, id: string): Promise<void> {
  await src.query(`DELETE FROM shard_fence WHERE shard = ANY($1::smallint[]) AND move_id = $2`, [shards, id]);
  await transaction(dst, async () => {
    await deleteRows(dst, shards, count);
    // Shards that lived here before (a move back) stay fenced as moved; the copy's fence goes.
    await dst.query(`DELETE FROM shard_fence WHERE shard = ANY($1::smallint[]) AND move_id = $2`, [shards, id]);
  });
}

/** Deletes the shards' rows of every moved table (not the shared ones). */
async function deleteRows(client: pg.Client, shards: number[], count: number): Promise<void> {
  for (const table of MOVED_TABLES) {
    if (table.shared) continue;
    if (table.where !== undefined) {
      await client.query(`DELETE FROM ${table.name} WHERE ${table.where}`, [shards]);
      continue;
    }
    const keys = (await digests(client, table, shards, count)).keys();
    await applyDelete(client, table, [...keys]);
  }
}

/**
 * Fences the shards in the old database (`frozen`), then waits until every transaction of its
 * clients that began before the fence was committed has ended: a statement that starts after the
 * commit sees the fence (READ COMMITTED takes a snapshot per statement, and the triggers' query
 * runs in it), so from then on no write of the shards can commit there. Waiting on transactions,
 * not taking table locks, holds no writer of the other shards back (a table lock taken one table
 * after another would deadlock with writers that touch the tables in another order). Fails after
 * FREEZE_LOCK_TIMEOUT_MS (a transaction left open): the move is then undone.
 */
async function freeze(src: pg.Client, shards: number[], id: string): Promise<void> {
  await src.query(
    `INSERT INTO shard_fence (shard, state, move_id) SELECT s, 'frozen', $2 FROM unnest($1::smallint[]) s
     ON CONFLICT (shard) DO UPDATE SET state = 'frozen', move_id = $2, since = now()`,
    [shards, id],
  );
  // As text: a Date would drop the microseconds, and a transaction begun in the same millisecond
  // just before the commit would not be waited for.
  const [{ at }] = (await src.query(`SELECT clock_timestamp()::text AS at`)).rows as { at: string }[];
  const deadline = performance.now() + FREEZE_LOCK_TIMEOUT_MS;
  for (;;) {
    const { rows } = await src.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND xact_start < $1::timestamptz`,
      [at],
    );
    const [{ n }] = rows as { n: number }[];
    if (n === 0) return;
    if (performance.now() > deadline) {
      throw new ShardMoveError(`${n} transactions begun before the freeze were still open after ${FREEZE_LOCK_TIMEOUT_MS} ms`);
    }
    await sleep(2);
  }
}

/**
 * The advisory lock (transaction scope) a database's outbox relay holds while it publishes and
 * deletes a batch: whoever else takes rows out of the outbox takes it first.
 */
export const OUTBOX_RELAY_LOCK = 0x72656c61; // "rela"

/**
 * Hands the shards' unpublished outbox rows (none is added once frozen) to the new database, in
 * their order, whose relay publishes them before anything written there after the switch. Under
 * the relay's lock, so no row is both handed over and published by the old relay; a crash between
 * the insert and the delete publishes a row twice, which consumers apply once (by version).
 */
async function handOverOutbox(src: pg.Client, dst: pg.Client, shards: number[]): Promise<number> {
  return transaction(src, async () => {
    await src.query(`SET LOCAL lock_timeout = '${FREEZE_LOCK_TIMEOUT_MS}ms'`);
    await src.query('SELECT pg_advisory_xact_lock($1)', [OUTBOX_RELAY_LOCK]);
    const { rows } = await src.query(
      `SELECT seq, topic, partition, key, headers, value, compact_topic, compact_key, created_at
         FROM outbox WHERE partition = ANY($1::int[]) ORDER BY seq`,
      [shards],
    );
    if (rows.length === 0) return 0;
    for (let i = 0; i < rows.length; i += CHUNK) {
      await dst.query(
        `INSERT INTO outbox (topic, partition, key, headers, value, compact_topic, compact_key, created_at)
         SELECT topic, partition, key, headers, value, compact_topic, compact_key, created_at
           FROM jsonb_to_recordset($1::jsonb) AS r(seq bigint, topic text, partition int, key text, headers jsonb, value text,
                compact_topic text, compact_key text, created_at timestamptz)
          ORDER BY seq`,
        [JSON.stringify(rows.slice(i, i + CHUNK))],
      );
    }
    await src.query(`DELETE FROM outbox WHERE seq = ANY($1::bigint[])`, [rows.map((r: { seq: string }) => r.seq)]);
    return rows.length;
  });
}

/**
 * Copies what differs between the old and the new database's rows of the shards, table by table
 * (parents first), and answers how many rows it inserted, replaced or deleted; with `dryRun`,
 * only counts them.
 */
async function syncRound(
  src: pg.Client,
  dst: pg.Client,
  shards: number[],
  count: number,
  options: { dryRun?: boolean } = {},
): Promise<number> {
  let changed = 0;
  for (const table of MOVED_TABLES) {
    const [from, to] = await Promise.all([digests(src, table, shards, count), digests(dst, table, shards, count)]);
    const copy: string[] = [];
    for (const [key, hash] of from) if (to.get(key) !== hash) copy.push(key);
    const remove = table.shared ? [] : [...to.keys()].filter((key) => !from.has(key));
    changed += copy.length + remove.length;
    if (options.dryRun) continue;
    for (let i = 0; i < copy.length; i += CHUNK) {
      const rows = await fetchRows(src, table, copy.slice(i, i + CHUNK));
      await upsert(dst, table, rows);
    }
    await applyDelete(dst, table, remove);
  }
  return changed;
}

/** Each row of the shards in `table`: its key (JSON of the key columns) and the digest of the rest. */
async function digests(client: pg.Client, table: MovedTable, shards: number[], count: number): Promise<Map<string, string>> {
  const key = `jsonb_build_object(${table.keys.map((k) => `'${k}', ${k}`).join(', ')})::text`;
  const sku = table.skuColumn ? `, ${table.skuColumn} AS sku` : '';
  const where = table.where ? `WHERE ${table.where}` : '';
  const text = `SELECT ${key} AS k, md5((to_jsonb(t) - ${excluded(table)})::text) AS h${sku} FROM ${table.name} t ${where}`;
  const params = table.where ? [shards] : [];
  const { rows } = await client.query(text, params);
  const result = new Map<string, string>();
  const moved = new Set(shards);
  for (const r of rows as { k: string; h: string; sku?: string }[]) {
    if (table.skuColumn && !moved.has(shardOf(r.sku!, count))) continue;
    result.set(r.k, r.h);
  }
  return result;
}

async function fetchRows(src: pg.Client, table: MovedTable, keys: string[]): Promise<unknown[]> {
  const cols = table.keys.join(', ');
  const { rows } = await src.query(
    `SELECT to_jsonb(t) - ${excluded(table)} AS r FROM ${table.name} t
      WHERE (${cols}) IN (SELECT ${cols} FROM jsonb_populate_recordset(NULL::${table.name}, $1::jsonb))`,
    [JSON.stringify(keys.map((k) => JSON.parse(k) as unknown))],
  );
  return (rows as { r: unknown }[]).map((row) => row.r);
}

async function upsert(dst: pg.Client, table: MovedTable, rows: unknown[]): Promise<void> {
  if (rows.length === 0) return;
  const { rows: columns } = await dst.query(
    `SELECT column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position`,
    [table.name],
  );
  const cols = (columns as { c: string }[]).map((c) => c.c).filter((c) => !(table.exclude ?? []).includes(c));
  const rest = cols.filter((c) => !table.keys.includes(c));
  const onConflict = table.shared ? 'DO NOTHING' : `DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;
  await dst.query(
    `INSERT INTO ${table.name} (${cols.join(', ')})
     SELECT ${cols.join(', ')} FROM jsonb_populate_recordset(NULL::${table.name}, $1::jsonb)
     ON CONFLICT (${table.keys.join(', ')}) ${onConflict}`,
    [JSON.stringify(rows)],
  );
}

async function applyDelete(client: pg.Client, table: MovedTable, keys: string[]): Promise<void> {
  const cols = table.keys.join(', ');
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK).map((k) => JSON.parse(k) as unknown);
    await client.query(
      `DELETE FROM ${table.name} WHERE (${cols}) IN (SELECT ${cols} FROM jsonb_populate_recordset(NULL::${table.name}, $1::jsonb))`,
      [JSON.stringify(chunk)],
    );
  }
}

/** The table's own columns, left out of digests and copies, as an SQL literal (names from MOVED_TABLES, never from input). */
function excluded(table: MovedTable): string {
  return `'{${(table.exclude ?? []).join(',')}}'::text[]`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
