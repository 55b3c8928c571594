import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { shardOf, type ShardDatabase } from '@stockmesh/sharding';
import pg from 'pg';
import { FENCED_TABLES } from '../migrations/1765500000000-shard-moves.js';
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
 * (`where`, given the SQL of the shards' array; or `skuColumn`, hashed here), which columns are the database's
 * own (`exclude`: a serial the new database assigns itself), and whether the move owns its rows
 * (`shared`: copied where missing, never deleted on either side).
 */
interface MovedTable {
  readonly name: string;
  readonly keys: readonly string[];
  readonly where?: (shards: string) => string;
  readonly skuColumn?: string;
  readonly exclude?: readonly string[];
  readonly shared?: boolean;
  /** The order rows are copied in (default: the key): the ledger's, so the new serials keep it. */
  readonly order?: readonly string[];
}

/** Every table holding a shard's rows, parents (stock) first. The outbox is handed over, not copied (`handOverOutbox`). */
const MOVED_TABLES: readonly MovedTable[] = [
  { name: 'stock', keys: ['warehouse_id', 'sku'], where: (s) => `shard = ANY(${s})` },
  { name: 'stock_movements', keys: ['id'], where: (s) => `shard = ANY(${s})`, exclude: ['seq'], order: ['seq'] },
  { name: 'stock_replica', keys: ['warehouse_id', 'sku'], where: (s) => `shard = ANY(${s})` },
  { name: 'transfers', keys: ['id'], where: (s) => `shard = ANY(${s})` },
  { name: 'transfer_receipts', keys: ['transfer_id'], skuColumn: 'sku' },
  { name: 'holds', keys: ['id'], skuColumn: 'sku' },
  // Partition k of the stock and transfers topics is applied with shard k's rows; the catalog's
  // and the keys' one partition (0) lives with shard 0, which never moves.
  { name: 'consumer_positions', keys: ['topic', 'partition'], where: (s) => `partition = ANY(${s})` },
  // Stored answers of idempotent writes do not name their SKU: all are copied (a retry after the
  // move finds its answer where the shard is now); a key's answer never changes once stored.
  { name: 'idempotency_keys', keys: ['scope', 'key'], shared: true },
];

const CHUNK = 1_000;
/** Copy rounds before the pause stop once a round changed at most this many rows, or after MAX_ROUNDS. */
const SETTLED_ROWS = 200;
const MAX_ROUNDS = 8;
/** How long the freeze waits for the transactions in flight on the old database (and the outbox hand-over for its relay). */
const FREEZE_LOCK_TIMEOUT_MS = 3_000;
/** How long turning a table's fence trigger on or off may wait for the table's writers, and how many times it tries. */
const TRIGGER_LOCK_TIMEOUT_MS = 200;
const TRIGGER_LOCK_ATTEMPTS = 15;

/**
 * Moves logical shards of this region from the database hosting them to another of its
 * databases (usually on another PostgreSQL server) while writes go on:
 *
 * 1. **Copy.** The new database fences the shards (`incoming`: only the mover writes them) and
 *    receives every row of theirs (in one REPEATABLE READ snapshot of the old database, page by
 *    page), then, round after round, the rows written since the round before (by their `xmin`),
 *    until a round finds few.
 * 2. **Freeze.** The old database fences the shards (`frozen`) and the mover waits for the
 *    transactions begun before that to end; writes to them now fail with SMF01 and are retried by
 *    the instances (`ShardDatabases.inShard`).
 * 3. **Last copy and verify.** One more round, the deletions since the first (key sets compared),
 *    then a comparison that must find nothing: the same keys on both sides, and the same content
 *    for every row written since the first round.
 * 4. **Switch.** The home database's shard map gets a new version naming the new database; the
 *    old database's fence becomes `moved` for good, and the shards' events not yet published move
 *    to the new database's outbox, in order. Every instance polls the version every
 *    SHARD_MAP_POLL_MS: after two polls, the new database lifts its fence and takes writes.
 * 5. **Retire.** The old copy is deleted.
 *
 * A move that fails before the switch is undone (the old database takes writes again, the copy is
 * deleted); one that fails after it, or whose switch may have committed, or whose undo failed, is
 * finished or undone by its recorded state within 30 s (ShardMoveRecovery, or the next move).
 * One move at a time per region.
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

  /**
   * Finishes or undoes a move that stopped (its process died, or its undo failed), unless none
   * is left or a move runs now: each instance runs it every 30 s (ShardMoveRecovery), so shards a
   * stopped move left fenced take writes again without an operator. Resolves to whether it did.
   */
  async recover(): Promise<boolean> {
    const left = await this.databases.read(this.databases.home(), (tx) =>
      tx.query(`SELECT 1 FROM shard_moves WHERE state NOT IN ('done', 'aborted') LIMIT 1`),
    );
    if (left.length === 0) return false;
    const home = await connect(this.databases.home());
    try {
      const [{ locked }] = (await home.query(`SELECT pg_try_advisory_lock(hashtext('stockmesh shard move')) AS locked`)).rows as {
        locked: boolean;
      }[];
      if (!locked) return false;
      await this.finishLeftovers(home);
      return true;
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
      // The fence's triggers are off in a database with no fenced shard: on, before anything is fenced.
      await fencing(src, true);
      await fencing(dst, true);
      // 1. Copy. A copy left by an abandoned move is replaced whole.
      await transaction(dst, async () => {
        await deleteRows(dst, shards, count);
        await dst.query(
          `INSERT INTO shard_fence (shard, state, move_id, shard_count) SELECT s, 'incoming', $2, $3 FROM unnest($1::smallint[]) s
           ON CONFLICT (shard) DO UPDATE SET state = 'incoming', move_id = $2, since = now()`,
          [shards, id, count],
        );
      });
      // The first round copies every row; each next one what was written since the one before.
      const first = await copyRound(src, dst, shards, count);
      let mark = first.mark;
      let rounds = 1;
      let rowsCopied = first.rows;
      for (let changed = first.rows; changed > SETTLED_ROWS && rounds < MAX_ROUNDS; rounds++) {
        await home.query(`UPDATE shard_moves SET rounds = $2, rows_copied = $3 WHERE id = $1`, [id, rounds, rowsCopied]);
        const next = await copyRound(src, dst, shards, count, mark);
        changed = next.rows;
        rowsCopied += next.rows;
        mark = next.mark;
      }
      await home.query(`UPDATE shard_moves SET rounds = $2, rows_copied = $3 WHERE id = $1`, [id, rounds, rowsCopied]);
      // 2. Freeze: once the fence is committed, every statement that starts sees it; what remains
      // is the transactions already running, which may have written before it and commit later.
      await freeze(src, shards, id, count);
      const frozenAt = performance.now();
      await home.query(`UPDATE shard_moves SET state = 'frozen' WHERE id = $1`, [id]);
      // 3. Last copy (what was written since the last round, and what was deleted since the
      // first), then a comparison that must find nothing; then the events not yet published.
      rowsCopied += (await copyRound(src, dst, shards, count, mark)).rows;
      const { removed, copied, differ: left } = await reconcile(src, dst, shards, count, first.mark);
      rowsCopied += removed + copied;
      if (left !== 0) throw new ShardMoveError(`the copy still differs from the original in ${left} rows after the last round`);
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
      // From here on the move only completes: each step is tried again on a transient error (a
      // move that still stops here is finished by the recovery).
      await openTarget(src, dst, shards, id, async () => {
        await this.databases.refreshMap().catch(() => false);
        // Every live instance reads the version within a poll; the new database takes writes after two.
        await sleep(2 * SHARD_MAP_POLL_MS + 50);
      });
      const pauseMs = Math.round(performance.now() - frozenAt);
      // Only a cost: triggers left on in a database that fences nothing refuse nothing.
      await syncFencing(dst).catch((e: Error) =>
        this.logger.warn({ msg: 'could not turn the fence triggers off', database: target.name, err: e.message }),
      );
      await retire(src, shards, count);
      await home.query(`UPDATE shard_moves SET state = 'done', pause_ms = $2, rows_copied = $3, finished_at = now() WHERE id = $1`, [
        id,
        pauseMs,
        rowsCopied,
      ]);
      this.logger.log({ msg: 'moved shards', id, shards, from: source.name, to: target.name, rounds, rowsCopied, pauseMs });
      return { id, shards, from: source.name, to: target.name, rounds, rowsCopied, pauseMs, mapVersion: Number(mapVersion) };
    } catch (error) {
      // A switch whose COMMIT failed on the wire may have committed: only the recorded state says.
      // Undoing a switched move would leave its shards where no copy is: then nothing is undone,
      // and the recovery decides by the record.
      const recorded = switched
        ? 'switched'
        : await this.databases
            .read(this.databases.home(), (tx) => tx.query<{ state: string }>(`SELECT state FROM shard_moves WHERE id = $1`, [id]))
            .then(
              ([row]) => row?.state ?? 'unknown',
              () => 'unknown',
            );
      if (recorded === 'switched' || recorded === 'unknown') {
        if (!switched) {
          throw new ShardMoveError(
            `the move’s switch may or may not have happened (${(error as Error).message}); it is finished or undone within 30 s`,
          );
        }
      } else {
        const undone = await undo(src, dst, shards, this.databases.shardCount, id).then(
          () => true,
          (e: Error) => {
            this.logger.error({ msg: 'could not undo a failed shard move; the next move undoes it', id, err: e.message });
            return false;
          },
        );
        const message = (error as Error).message;
        if (!undone) {
          // Left as it is (copying or frozen): the next move of the region undoes it first.
          throw new ShardMoveError(`the move failed (${message}) and could not be undone yet; the next shard move undoes it`);
        }
        await home
          .query(`UPDATE shard_moves SET state = 'aborted', error = $2, finished_at = now() WHERE id = $1`, [id, message])
          .catch(() => undefined);
        if (!(error instanceof ShardMoveError)) throw new ShardMoveError(`the move failed and was undone: ${message}`);
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
          await openTarget(src, dst, move.shards, move.id, () => sleep(2 * SHARD_MAP_POLL_MS + 50));
          await retire(src, move.shards, this.databases.shardCount);
          await home.query(`UPDATE shard_moves SET state = 'done', finished_at = now() WHERE id = $1`, [move.id]);
        } else {
          await undo(src, dst, move.shards, this.databases.shardCount, move.id);
          await home.query(`UPDATE shard_moves SET state = 'aborted', error = 'left unfinished', finished_at = now() WHERE id = $1`, [
            move.id,
          ]);
        }
        await syncFencing(src);
        await syncFencing(dst);
        this.logger.warn({ msg: 'finished a shard move left unfinished', id: move.id, was: move.state });
      } finally {
        await src.end().catch(() => undefined);
        await dst.end().catch(() => undefined);
      }
    }
  }
}

/**
 * The steps of a switched move up to the new database taking writes, each tried again on an
 * error: the old database fenced for good, the shards' unpublished events handed over, `settle`
 * (time for every instance to read the new map), the new database's fence lifted.
 */
async function openTarget(src: pg.Client, dst: pg.Client, shards: number[], id: string, settle: () => Promise<void>): Promise<void> {
  await persist(() => src.query(`UPDATE shard_fence SET state = 'moved', since = now() WHERE shard = ANY($1::smallint[])`, [shards]));
  // Only after the switch: had it failed, the old database would take writes again, and its newer
  // events must not race older ones published from the new database.
  await persist(() => handOverOutbox(src, dst, shards));
  await settle();
  await persist(() => dst.query(`DELETE FROM shard_fence WHERE shard = ANY($1::smallint[]) AND move_id = $2`, [shards, id]));
}

/** The last step of a switched move: the old copy deleted (its fence stays: nothing may write those shards there again). */
async function retire(src: pg.Client, shards: number[], count: number): Promise<void> {
  await persist(() => transaction(src, () => deleteRows(src, shards, count)));
}

/** Runs a step of a switched move, again after a pause when it fails (up to five times). */
async function persist<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= 5) throw error;
      await sleep(200 * attempt);
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
    // The shards live elsewhere: the new database keeps refusing their writes (it may have hosted
    // them before, and an instance that never read the map would route them there).
    await dst.query(`UPDATE shard_fence SET state = 'moved', since = now() WHERE shard = ANY($1::smallint[]) AND move_id = $2`, [
      shards,
      id,
    ]);
  });
  await syncFencing(src);
  await syncFencing(dst);
}

/**
 * Turns the fence's triggers on or off in the database (those already so are left alone). One
 * table per statement: ALTER TABLE waits for the table's writers in flight and holds new ones
 * back until it commits (microseconds), and holding one table while waiting for the next could
 * deadlock with writers that take them in another order.
 */
async function fencing(client: pg.Client, on: boolean): Promise<void> {
  const { rows } = await client.query(`SELECT tgname FROM pg_trigger WHERE tgname = ANY($1::text[]) AND (tgenabled <> 'D') <> $2`, [
    FENCED_TABLES.map((t) => `${t}_shard_fence`),
    on,
  ]);
  const pending = new Set((rows as { tgname: string }[]).map((r) => r.tgname));
  for (const table of FENCED_TABLES) {
    if (!pending.has(`${table}_shard_fence`)) continue;
    // A short lock wait, tried again: writers of the table queue behind a waiting ALTER.
    for (let attempt = 1; ; attempt++) {
      try {
        await transaction(client, async () => {
          await client.query(`SET LOCAL lock_timeout = '${TRIGGER_LOCK_TIMEOUT_MS}ms'`);
          await client.query(`ALTER TABLE ${table} ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${table}_shard_fence`);
        });
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== '55P03' || attempt >= TRIGGER_LOCK_ATTEMPTS) throw error;
        await sleep(50 * attempt);
      }
    }
  }
}

/** The fence's triggers on while the database fences a shard, off once it fences none. */
async function syncFencing(client: pg.Client): Promise<void> {
  const [{ fenced }] = (await client.query(`SELECT EXISTS (SELECT 1 FROM shard_fence) AS fenced`)).rows as { fenced: boolean }[];
  await fencing(client, fenced);
}

/** Deletes the shards' rows of every moved table (not the shared ones). */
async function deleteRows(client: pg.Client, shards: number[], count: number): Promise<void> {
  for (const table of MOVED_TABLES) {
    if (table.shared) continue;
    if (table.where !== undefined) {
      await client.query(`DELETE FROM ${table.name} WHERE ${table.where('$1::smallint[]')}`, [shards]);
      continue;
    }
    await applyDelete(client, table, [...(await keysOf(client, table, shards, count))]);
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
async function freeze(src: pg.Client, shards: number[], id: string, count: number): Promise<void> {
  // Without activity tracking, pg_stat_activity shows no transaction, and the wait would end at once.
  const [{ tracked }] = (await src.query(`SELECT current_setting('track_activities') = 'on' AS tracked`)).rows as { tracked: boolean }[];
  if (!tracked)
    throw new ShardMoveError('track_activities is off on the old database’s server: the freeze cannot see the transactions in flight');
  await src.query(
    `INSERT INTO shard_fence (shard, state, move_id, shard_count) SELECT s, 'frozen', $2, $3 FROM unnest($1::smallint[]) s
     ON CONFLICT (shard) DO UPDATE SET state = 'frozen', move_id = $2, since = now()`,
    [shards, id, count],
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
 * Where a round read the old database: the oldest transaction its snapshot did not see ended
 * (`pg_snapshot_xmin`, as a 32-bit xid). A row written after the round read has an `xmin` of that
 * transaction or a newer one (inserted and updated rows get their writer's; frozen rows the
 * oldest age), so `age(xmin) <= age(mark)` finds it (with a few rows the round saw already).
 */
type Mark = string;

const PAGE = 5_000;

/**
 * One copy round, in one REPEATABLE READ snapshot of the old database: every row of the shards,
 * page by page in key order (`since` absent), or the rows written since the mark `since`; each
 * page upserted into the new database. Resolves to the rows copied and this round's mark.
 */
async function copyRound(
  src: pg.Client,
  dst: pg.Client,
  shards: number[],
  count: number,
  since?: Mark,
): Promise<{ rows: number; mark: Mark }> {
  await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const [{ mark }] = (await src.query(`SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint % 4294967296)::text AS mark`))
      .rows as { mark: string }[];
    let copied = 0;
    for (const table of MOVED_TABLES) {
      const order = (table.order ?? table.keys).join(', ');
      let after: unknown = null;
      for (;;) {
        const query = new Query();
        const conditions = [shardCondition(table, query, shards)];
        if (since !== undefined) conditions.push(`age(t.xmin) <= age(${query.param(since, 'xid')})`);
        else if (after !== null) {
          conditions.push(
            `(${order}) > (SELECT ${order} FROM jsonb_populate_record(NULL::${table.name}, ${query.param(JSON.stringify(after), 'jsonb')}))`,
          );
        }
        const page = since === undefined ? `LIMIT ${PAGE}` : '';
        const { rows } = await src.query(
          `SELECT to_jsonb(t) AS r FROM ${table.name} t WHERE ${conditions.join(' AND ')} ORDER BY ${order} ${page}`,
          query.params,
        );
        const all = (rows as { r: Record<string, unknown> }[]).map((row) => row.r);
        const mine = table.skuColumn ? all.filter((r) => shards.includes(shardOf(String(r[table.skuColumn!]), count))) : all;
        const copies = mine.map((r) =>
          table.exclude ? Object.fromEntries(Object.entries(r).filter(([c]) => !table.exclude!.includes(c))) : r,
        );
        for (let i = 0; i < copies.length; i += CHUNK) await upsert(dst, table, copies.slice(i, i + CHUNK));
        copied += copies.length;
        if (since !== undefined || all.length < PAGE) break;
        after = Object.fromEntries((table.order ?? table.keys).map((k) => [k, all[all.length - 1]![k]]));
      }
    }
    await src.query('COMMIT');
    return { rows: copied, mark };
  } catch (error) {
    await src.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** A row's key as text: JSON of its key columns, as PostgreSQL writes it (the same on both servers). */
function keyText(table: MovedTable): string {
  return `jsonb_build_object(${table.keys.map((k) => `'${k}', ${k}`).join(', ')})::text`;
}

/** The condition on the shards' rows of `table` (all rows of a table whose rows are told by their SKU). */
function shardCondition(table: MovedTable, query: Query, shards: number[]): string {
  return table.where ? table.where(query.param(shards, 'smallint[]')) : 'true';
}

/** The keys of the shards' rows in `table`. */
async function keysOf(client: pg.Client, table: MovedTable, shards: number[], count: number): Promise<Set<string>> {
  const sku = table.skuColumn ? `, ${table.skuColumn} AS sku` : '';
  const query = new Query();
  const { rows } = await client.query(
    `SELECT ${keyText(table)} AS k${sku} FROM ${table.name} t WHERE ${shardCondition(table, query, shards)}`,
    query.params,
  );
  const result = new Set<string>();
  for (const r of rows as { k: string; sku?: string }[]) if (!table.skuColumn || shards.includes(shardOf(r.sku!, count))) result.add(r.k);
  return result;
}

/**
 * The old database frozen: deletes from the new one the shards' rows the old one no longer has
 * and copies those it lacks (not the shared tables'), then counts the rows written since the
 * first round (`since`) whose content still differs (the first round's pages were inserted as
 * read, and every row is now on both sides or neither).
 */
async function reconcile(
  src: pg.Client,
  dst: pg.Client,
  shards: number[],
  count: number,
  since: Mark,
): Promise<{ removed: number; copied: number; differ: number }> {
  let removed = 0;
  let copied = 0;
  let differ = 0;
  for (const table of MOVED_TABLES) {
    if (table.shared) continue;
    const [from, to] = await Promise.all([keysOf(src, table, shards, count), keysOf(dst, table, shards, count)]);
    const gone = [...to].filter((key) => !from.has(key));
    await applyDelete(dst, table, gone);
    removed += gone.length;
    // Rows the copy has not (the new database's retention deleted one before the old one did).
    const missing = [...from].filter((key) => !to.has(key));
    for (let i = 0; i < missing.length; i += CHUNK) {
      const rows = await fetchRows(src, table, missing.slice(i, i + CHUNK));
      await upsert(dst, table, rows);
      copied += rows.length;
      for (const key of missing.slice(i, i + CHUNK)) to.add(key);
    }
    const keys = table.keys.join(', ');
    const key = keyText(table);
    const digest = `md5((to_jsonb(t) - ${excluded(table)})::text)`;
    const query = new Query();
    const where = shardCondition(table, query, shards);
    const { rows } = await src.query(
      `SELECT ${key} AS k, ${digest} AS h FROM ${table.name} t WHERE ${where} AND age(t.xmin) <= age(${query.param(since, 'xid')})`,
      query.params,
    );
    // A row of another shard (a SKU-hashed table) is on neither side's key list: not compared.
    const written = (rows as { k: string; h: string }[]).filter((r) => from.has(r.k) && to.has(r.k));
    for (let i = 0; i < written.length; i += CHUNK) {
      const part = written.slice(i, i + CHUNK);
      const { rows: theirs } = await dst.query(
        `SELECT ${key} AS k, ${digest} AS h
           FROM ${table.name} t WHERE (${keys}) IN (SELECT ${keys} FROM jsonb_populate_recordset(NULL::${table.name}, $1::jsonb))`,
        [JSON.stringify(part.map((r) => JSON.parse(r.k) as unknown))],
      );
      const hashes = new Map((theirs as { k: string; h: string }[]).map((r) => [r.k, r.h]));
      for (const r of part) if (hashes.get(r.k) !== r.h) differ++;
    }
  }
  return { removed, copied, differ };
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

/** Each session's column lists, read once per table. */
const columnsOf = new WeakMap<pg.Client, Map<string, string[]>>();

async function upsert(dst: pg.Client, table: MovedTable, rows: unknown[]): Promise<void> {
  if (rows.length === 0) return;
  const known = columnsOf.get(dst) ?? new Map<string, string[]>();
  columnsOf.set(dst, known);
  const cols = known.get(table.name) ?? (await columnsFor(dst, table));
  known.set(table.name, cols);
  const rest = cols.filter((c) => !table.keys.includes(c));
  const onConflict = table.shared ? 'DO NOTHING' : `DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;
  await dst.query(
    `INSERT INTO ${table.name} (${cols.join(', ')})
     SELECT ${cols.join(', ')} FROM jsonb_populate_recordset(NULL::${table.name}, $1::jsonb)
     ON CONFLICT (${table.keys.join(', ')}) ${onConflict}`,
    [JSON.stringify(rows)],
  );
}

/** The columns a copy writes: not generated ones, not the table's own serial. */
async function columnsFor(dst: pg.Client, table: MovedTable): Promise<string[]> {
  const { rows: columns } = await dst.query(
    `SELECT column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position`,
    [table.name],
  );
  return (columns as { c: string }[]).map((c) => c.c).filter((c) => !(table.exclude ?? []).includes(c));
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

/** A statement's parameters, numbered as they are added. */
class Query {
  readonly params: unknown[] = [];

  param(value: unknown, type: string): string {
    this.params.push(value);
    return `$${this.params.length}::${type}`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
