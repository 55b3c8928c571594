import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Low-stock alerts (docs/events.md, "Stock alerts"): an owned row's threshold, and whether the
 * owner last announced the row as low. Owner-only: not replicated, so `stock_replica` does not change.
 *
 * - `stock.low_stock_threshold`: set with a count; 0 (every row before this migration) means no alerts.
 * - `stock.low_stock`: true from the `stock.low` alert until the `stock.back-in-stock` one. The
 *   owner compares it with the row after every change, in that change's transaction, so a crossing
 *   is announced once however the change was made (one write, a batch, a group of holds). It is
 *   never true without a threshold: turning the alerts off clears it without an event.
 */
export class LowStockAlerts1765200000001 implements MigrationInterface {
  name = 'LowStockAlerts1765200000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE stock
        ADD COLUMN low_stock_threshold bigint NOT NULL DEFAULT 0
          CONSTRAINT stock_low_stock_threshold_non_negative CHECK (low_stock_threshold >= 0),
        ADD COLUMN low_stock boolean NOT NULL DEFAULT false,
        ADD CONSTRAINT stock_low_stock_needs_threshold CHECK (NOT low_stock OR low_stock_threshold > 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stock DROP COLUMN low_stock, DROP COLUMN low_stock_threshold`);
  }
}
