import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Online shard moves (docs/operations.md, "Moving shards"):
 *
 * - `shard_fence`, in every database: the logical shards this database must not write, because
 *   they are being copied into it (`incoming`), paused for a cutover (`frozen`) or have moved away
 *   (`moved`). Triggers on the tables holding a shard's rows (but the ledger, written only with
 *   its stock row) refuse a write to a fenced shard with
 *   SQLSTATE `SMF01`, so an instance still holding an old shard map cannot write to a shard's old
 *   database once the cutover has begun, whatever it believes. The mover's own sessions
 *   (`stockmesh.shard_mover = on`) pass. The triggers are off while a database has no fenced
 *   shard (ShardMover turns them on and off), so they cost nothing until a move.
 * - `shard_map` and `shard_map_version`, in the home database (which hosts shard 0, never moved):
 *   the shards that no longer live where the cluster file puts them, and the map's version, which
 *   every instance polls.
 * - `shard_moves`, in the home database: each move, its state and its measured pause.
 */
/** The tables whose rows a shard move fences, each with a trigger `<table>_shard_fence`. */
export const FENCED_TABLES = ['stock', 'stock_replica', 'transfers', 'holds', 'transfer_receipts'] as const;

export class ShardMoves1765500000000 implements MigrationInterface {
  name = 'ShardMoves1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE shard_fence (
        shard   smallint    PRIMARY KEY,
        state   text        NOT NULL CHECK (state IN ('incoming', 'frozen', 'moved')),
        move_id uuid        NOT NULL,
        since   timestamptz NOT NULL DEFAULT now()
      )`);
    // The checks are inlined in each trigger function (a nested PL/pgSQL call cost a fifth of
    // pgbench's hold transaction); with no fenced shard, each is one index probe.
    await q.query(`
      CREATE FUNCTION stockmesh_fence_by_shard() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        r record;
      BEGIN
        IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
        IF EXISTS (SELECT 1 FROM shard_fence WHERE shard = r.shard OR (TG_OP = 'UPDATE' AND shard = OLD.shard))
           AND coalesce(current_setting('stockmesh.shard_mover', true), '') <> 'on' THEN
          RAISE EXCEPTION 'shard % is not written in this database now: it is moving or has moved', r.shard USING ERRCODE = 'SMF01';
        END IF;
        RETURN r;
      END $$`);
    // Holds and transfer receipts name a warehouse and a SKU: the shard is the stock row's.
    for (const [name, warehouse] of [
      ['stockmesh_fence_hold', 'warehouse_id'],
      ['stockmesh_fence_receipt', 'to_warehouse_id'],
    ] as const) {
      await q.query(`
        CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          r record;
        BEGIN
          IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
          IF EXISTS (SELECT 1 FROM shard_fence f JOIN stock s ON s.shard = f.shard
                      WHERE s.warehouse_id = r.${warehouse} AND s.sku = r.sku)
             AND coalesce(current_setting('stockmesh.shard_mover', true), '') <> 'on' THEN
            RAISE EXCEPTION 'the shard of % is not written in this database now: it is moving or has moved', r.sku USING ERRCODE = 'SMF01';
          END IF;
          RETURN r;
        END $$`);
    }
    // Not stock_movements: a ledger row is only written with its stock row, whose trigger refuses.
    for (const table of ['stock', 'stock_replica', 'transfers']) {
      await q.query(`
        CREATE TRIGGER ${table}_shard_fence BEFORE INSERT OR UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION stockmesh_fence_by_shard()`);
    }
    await q.query(`
      CREATE TRIGGER holds_shard_fence BEFORE INSERT OR UPDATE OR DELETE ON holds
      FOR EACH ROW EXECUTE FUNCTION stockmesh_fence_hold()`);
    await q.query(`
      CREATE TRIGGER transfer_receipts_shard_fence BEFORE INSERT OR UPDATE OR DELETE ON transfer_receipts
      FOR EACH ROW EXECUTE FUNCTION stockmesh_fence_receipt()`);
    // Off until a move fences a shard here (ShardMover turns them on first, and off again in a
    // database left with no fenced shard): even one index probe per row cost 12 to 17 % of
    // pgbench's hold transaction, for a check that has nothing to refuse until then.
    for (const table of FENCED_TABLES) await q.query(`ALTER TABLE ${table} DISABLE TRIGGER ${table}_shard_fence`);

    await q.query(`
      CREATE TABLE shard_map (
        shard      smallint    PRIMARY KEY,
        database   text        NOT NULL,
        version    bigint      NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE shard_map_version (
        id      smallint PRIMARY KEY CHECK (id = 1),
        version bigint   NOT NULL
      )`);
    await q.query(`INSERT INTO shard_map_version (id, version) VALUES (1, 0)`);
    await q.query(`
      CREATE TABLE shard_moves (
        id           uuid        PRIMARY KEY,
        shards       smallint[]  NOT NULL,
        source       text        NOT NULL,
        target       text        NOT NULL,
        state        text        NOT NULL CHECK (state IN ('copying', 'frozen', 'switched', 'done', 'aborted')),
        map_version  bigint,
        rounds       integer     NOT NULL DEFAULT 0,
        rows_copied  bigint      NOT NULL DEFAULT 0,
        pause_ms     integer,
        error        text,
        started_at   timestamptz NOT NULL DEFAULT now(),
        finished_at  timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE shard_moves`);
    await q.query(`DROP TABLE shard_map_version`);
    await q.query(`DROP TABLE shard_map`);
    for (const table of FENCED_TABLES) await q.query(`DROP TRIGGER ${table}_shard_fence ON ${table}`);
    await q.query(`DROP FUNCTION stockmesh_fence_receipt()`);
    await q.query(`DROP FUNCTION stockmesh_fence_hold()`);
    await q.query(`DROP FUNCTION stockmesh_fence_by_shard()`);
    await q.query(`DROP TABLE shard_fence`);
  }
}
