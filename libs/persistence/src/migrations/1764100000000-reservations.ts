import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reservations: holds at the owner of the stock (any shard database), and the reservations and
 * their allocations at the coordinating region (its home database).
 */
export class Reservations1764100000000 implements MigrationInterface {
  name = 'Reservations1764100000000';

  async up(q: QueryRunner): Promise<void> {
    // A hold of units of one row, named by the coordinator (`<reservationId>/<allocationNo>`) so
    // that every step on it is idempotent. A release of a hold never seen leaves a tombstone
    // (quantity 0), so a hold request that arrives after its own compensation is refused.
    await q.query(`
      CREATE TABLE holds (
        id              text     PRIMARY KEY,
        reservation_id  text     NOT NULL,
        warehouse_id    text     NOT NULL,
        sku             text     NOT NULL,
        quantity        bigint   NOT NULL CHECK (quantity >= 0),
        status          text     NOT NULL CHECK (status IN ('held', 'committed', 'released')),
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX holds_by_reservation ON holds (reservation_id)`);

    // The saga state of a reservation, stored before each step; `lease_until` tells other
    // instances of the region whether the coordinator running it is still alive.
    await q.query(`
      CREATE TABLE reservations (
        id               text     PRIMARY KEY,
        status           text     NOT NULL CHECK (status IN ('pending', 'held', 'committed', 'released', 'expired', 'failed')),
        idempotency_key  text     NOT NULL UNIQUE,
        fingerprint      text     NOT NULL,
        reference        text,
        ttl_seconds      integer  NOT NULL,
        allow_split      boolean  NOT NULL,
        lines            jsonb    NOT NULL,
        expires_at       timestamptz,
        lease_until      timestamptz,
        answer_status    smallint,
        answer           json,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX reservations_expiring ON reservations (expires_at) WHERE status = 'held'`);
    await q.query(`CREATE INDEX reservations_pending ON reservations (lease_until) WHERE status = 'pending'`);
    await q.query(`
      CREATE TABLE reservation_allocations (
        reservation_id  text     NOT NULL REFERENCES reservations (id),
        allocation_no   integer  NOT NULL,
        line_no         integer  NOT NULL,
        sku             text     NOT NULL,
        warehouse_id    text     NOT NULL,
        region          text     NOT NULL,
        quantity        bigint   NOT NULL CHECK (quantity > 0),
        state           text     NOT NULL CHECK (state IN ('intent', 'held', 'refused', 'committed', 'released')),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (reservation_id, allocation_no)
      )`);
    // What the finisher looks for: decided reservations whose owners have not confirmed yet.
    await q.query(
      `CREATE INDEX reservation_allocations_open ON reservation_allocations (reservation_id) WHERE state IN ('intent', 'held')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE reservation_allocations`);
    await q.query(`DROP TABLE reservations`);
    await q.query(`DROP TABLE holds`);
  }
}
