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
export const FENCED_TABLES = ['stock', 'stock_replica', 'transfers', 'holds', 'transfer_receipts', 'consumer_positions'] as const;

export class ShardMoves1765500000000 implements MigrationInterface {
  name = 'ShardMoves1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE shard_fence (
        shard       smallint    PRIMARY KEY,
        state       text        NOT NULL CHECK (state IN ('incoming', 'frozen', 'moved')),
        move_id     uuid        NOT NULL,
        shard_count smallint    NOT NULL CHECK (shard_count > shard),
        since       timestamptz NOT NULL DEFAULT now()
      )`);
    // Kafka's murmur2 partitioner (libs/sharding/src/murmur2.ts) on the SKU's UTF-8 bytes, for a
    // row that names a SKU but whose stock row is not (or no longer) here. 32-bit arithmetic in
    // bigint: a product keeps its low 32 bits, split so no intermediate exceeds 2^48.
    const mul = (a: string, b: string) => `((((${a}) & 65535) * ${b}) + (((((${a}) >> 16) * ${b}) & 65535) << 16)) & 4294967295`;
    await q.query(`
      CREATE FUNCTION stockmesh_shard_of(sku text, shard_count integer) RETURNS integer
      LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
      DECLARE
        data bytea := convert_to(sku, 'UTF8');
        len integer := length(convert_to(sku, 'UTF8'));
        m constant bigint := 1540483477;
        h bigint := 2538058380 # len;
        k bigint;
        i integer := 0;
        tail integer := len & ~3;
        rest integer := len & 3;
      BEGIN
        WHILE i < tail LOOP
          k := get_byte(data, i)::bigint | (get_byte(data, i + 1)::bigint << 8) | (get_byte(data, i + 2)::bigint << 16)
               | (get_byte(data, i + 3)::bigint << 24);
          k := ${mul('k', 'm')};
          k := k # (k >> 24);
          k := ${mul('k', 'm')};
          h := ${mul('h', 'm')};
          h := h # k;
          i := i + 4;
        END LOOP;
        IF rest = 3 THEN h := h # (get_byte(data, tail + 2)::bigint << 16); END IF;
        IF rest >= 2 THEN h := h # (get_byte(data, tail + 1)::bigint << 8); END IF;
        IF rest >= 1 THEN
          h := h # get_byte(data, tail)::bigint;
          h := ${mul('h', 'm')};
        END IF;
        h := h # (h >> 13);
        h := ${mul('h', 'm')};
        h := h # (h >> 15);
        RETURN ((h & 2147483647) % shard_count)::integer;
      END $$`);
    // The checks are inlined in each trigger function (a nested PL/pgSQL call cost a fifth of
    // pgbench's hold transaction); with no fenced shard, each is one index probe.
    // Rows that name their shard: the tables with a shard column, and replication positions
    // (partition k of the stock and transfers topics is shard k's; the catalog's and the keys'
    // one partition, 0, lives with shard 0, which never moves). A batch of this region's own
    // events writes only its position: fenced too, or it would move on in the old database after
    // the last copy.
    for (const [name, column] of [
      ['stockmesh_fence_by_shard', 'shard'],
      ['stockmesh_fence_by_partition', 'partition'],
    ] as const) {
      await q.query(`
        CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          r record;
        BEGIN
          IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
          IF EXISTS (SELECT 1 FROM shard_fence WHERE shard = r.${column} OR (TG_OP = 'UPDATE' AND shard = OLD.${column}))
             AND coalesce(current_setting('stockmesh.shard_mover', true), '') <> 'on' THEN
            RAISE EXCEPTION 'shard % is not written in this database now: it is moving or has moved', r.${column}
              USING ERRCODE = 'SMF01';
          END IF;
          RETURN r;
        END $$`);
    }
    // Holds and transfer receipts name a warehouse and a SKU: the shard is the stock row's, or
    // the SKU's hash when the row is not here (a release tombstone, a refused receipt, or a row
    // retired by a move: the fence must hold for those too).
    for (const [name, warehouse] of [
      ['stockmesh_fence_hold', 'warehouse_id'],
      ['stockmesh_fence_receipt', 'to_warehouse_id'],
    ] as const) {
      await q.query(`
        CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          r record;
          s integer;
        BEGIN
          IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
          IF EXISTS (SELECT 1 FROM shard_fence) AND coalesce(current_setting('stockmesh.shard_mover', true), '') <> 'on' THEN
            SELECT shard INTO s FROM stock WHERE warehouse_id = r.${warehouse} AND sku = r.sku;
            IF s IS NULL THEN
              SELECT stockmesh_shard_of(r.sku, shard_count) INTO s FROM shard_fence LIMIT 1;
            END IF;
            IF EXISTS (SELECT 1 FROM shard_fence WHERE shard = s) THEN
              RAISE EXCEPTION 'shard % (of %) is not written in this database now: it is moving or has moved', s, r.sku
                USING ERRCODE = 'SMF01';
            END IF;
          END IF;
          RETURN r;
        END $$`);
    }
    await q.query(`
      CREATE TRIGGER consumer_positions_shard_fence BEFORE INSERT OR UPDATE OR DELETE ON consumer_positions
      FOR EACH ROW EXECUTE FUNCTION stockmesh_fence_by_partition()`);
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
    await q.query(`DROP FUNCTION stockmesh_fence_by_partition()`);
    await q.query(`DROP FUNCTION stockmesh_fence_by_shard()`);
    await q.query(`DROP FUNCTION stockmesh_shard_of(text, integer)`);
    await q.query(`DROP TABLE shard_fence`);
  }
}
