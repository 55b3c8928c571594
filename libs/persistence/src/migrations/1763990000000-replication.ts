import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The outbox's NOTIFY trigger (dropped again by `OutboxWithoutNotify1764955000000`). */
export const CREATE_OUTBOX_NOTIFY = [
  `
      CREATE FUNCTION stockmesh_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('stockmesh_outbox', '');
        RETURN NULL;
      END $$`,
  `CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION stockmesh_outbox_notify()`,
] as const;

/**
 * Replication through Kafka: the transactional outbox of the owner, the replicas of other
 * regions' rows, and the consumer positions that commit together with what was applied.
 */
export class Replication1763990000000 implements MigrationInterface {
  name = 'Replication1763990000000';

  async up(q: QueryRunner): Promise<void> {
    // Written in the transaction of the change it announces; published in seq order and then
    // deleted by the relay. `compact_topic`/`compact_key` name the compacted topic that also gets
    // the record (the latest state of a row), published before the live topic.
    await q.query(`
      CREATE TABLE outbox (
        seq            bigserial PRIMARY KEY,
        topic          text    NOT NULL,
        partition      integer NOT NULL,
        key            text    NOT NULL,
        headers        jsonb   NOT NULL,
        value          text    NOT NULL,
        compact_topic  text,
        compact_key    text,
        created_at     timestamptz NOT NULL DEFAULT now()
      )`);
    // Wakes the relay as soon as a change commits (a NOTIFY is delivered at commit).
    for (const sql of CREATE_OUTBOX_NOTIFY) await q.query(sql);

    // Other regions' rows, as their owners last published them. A row is only ever replaced by a
    // higher version from its owner, so duplicates and reordering change nothing.
    await q.query(`
      CREATE TABLE stock_replica (
        warehouse_id text     NOT NULL,
        sku          text     NOT NULL,
        shard        smallint NOT NULL,
        region       text     NOT NULL,
        on_hand      bigint   NOT NULL,
        reserved     bigint   NOT NULL,
        version      bigint   NOT NULL,
        updated_at   timestamptz NOT NULL,
        applied_at   timestamptz NOT NULL DEFAULT now(),
        event_id     text     NOT NULL,
        PRIMARY KEY (warehouse_id, sku)
      )`);
    await q.query(`CREATE INDEX stock_replica_by_sku ON stock_replica (sku)`);

    // The next offset to apply per topic partition, committed with the rows it applied.
    await q.query(`
      CREATE TABLE consumer_positions (
        topic        text    NOT NULL,
        partition    integer NOT NULL,
        next_offset  bigint  NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (topic, partition)
      )`);

    // The catalog holds every region's warehouses; a replicated entry records when it arrived.
    await q.query(`ALTER TABLE warehouses ADD COLUMN applied_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE warehouses DROP COLUMN applied_at`);
    await q.query(`DROP TABLE consumer_positions`);
    await q.query(`DROP TABLE stock_replica`);
    await q.query(`DROP TRIGGER outbox_notify ON outbox`);
    await q.query(`DROP FUNCTION stockmesh_outbox_notify()`);
    await q.query(`DROP TABLE outbox`);
  }
}
