import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Online shard moves (docs/operations.md, "Moving shards"):
 *
 * - `shard_fence`, in every database: the logical shards this database must not write, because
 *   they are being copied into it (`incoming`), paused for a cutover (`frozen`) or have moved away
 *   (`moved`). Triggers on the tables holding a shard's rows refuse a write to a fenced shard with
 *   SQLSTATE `SMF01`, so an instance still holding an old shard map cannot write to a shard's old
 *   database once the cutover has begun, whatever it believes. The mover's own sessions
 *   (`stockmesh.shard_mover = on`) pass. An empty table (every database until its first move)
 *   costs one index probe per written row.
 * - `shard_map` and `shard_map_version`, in the home database (which hosts shard 0, never moved):
 *   the shards that no longer live where the cluster file puts them, and the map's version, which
 *   every instance polls.
 * - `shard_moves`, in the home database: each move, its state and its measured pause.
 */
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
    await q.query(`
      CREATE FUNCTION stockmesh_check_shard_fence(s integer) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM shard_fence WHERE shard = s)
           AND coalesce(current_setting('stockmesh.shard_mover', true), '') <> 'on' THEN
          RAISE EXCEPTION 'shard % is not written in this database now: it is moving or has moved', s
            USING ERRCODE = 'SMF01';
        END IF;
      END $$`);
    // Tables with a shard column.
    await q.query(`
      CREATE FUNCTION stockmesh_fence_by_shard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM stockmesh_check_shard_fence(OLD.shard);
          RETURN OLD;
        END IF;
        PERFORM stockmesh_check_shard_fence(NEW.shard);
        IF TG_OP = 'UPDATE' AND OLD.shard <> NEW.shard THEN PERFORM stockmesh_check_shard_fence(OLD.shard); END IF;
        RETURN NEW;
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
          s smallint;
        BEGIN
          IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
          IF EXISTS (SELECT 1 FROM shard_fence) THEN
            SELECT shard INTO s FROM stock WHERE warehouse_id = r.${warehouse} AND sku = r.sku;
            IF s IS NOT NULL THEN PERFORM stockmesh_check_shard_fence(s); END IF;
          END IF;
          RETURN r;
        END $$`);
    }
    for (const table of ['stock', 'stock_movements', 'stock_replica', 'transfers']) {
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
    for (const table of ['stock', 'stock_movements', 'stock_replica', 'transfers', 'holds', 'transfer_receipts']) {
      await q.query(`DROP TRIGGER ${table}_shard_fence ON ${table}`);
    }
    await q.query(`DROP FUNCTION stockmesh_fence_receipt()`);
    await q.query(`DROP FUNCTION stockmesh_fence_hold()`);
    await q.query(`DROP FUNCTION stockmesh_fence_by_shard()`);
    await q.query(`DROP FUNCTION stockmesh_check_shard_fence(integer)`);
    await q.query(`DROP TABLE shard_fence`);
  }
}
