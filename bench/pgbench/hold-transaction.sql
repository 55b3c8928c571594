-- The owner's whole hold transaction, statement for statement as HoldService.place runs it through
-- ShardDatabases.inDatabase for a hold alone in its batch, with the same round trips: the hold row
-- with the conditional update (one statement, StockRepository.insertHoldAndReserve), the ledger
-- entry (built from the updated row, as the service does), the outbox entry (a real-sized
-- stock.changed record), the commit.
-- Variables (pgbench -D), besides w and n as in hold.sql
--   headers, value   the outbox record's headers (JSON) and value, as the service writes them
\set s random(0, :n - 1)
\set h random(1, 9000000000000000000)
-- ShardDatabases sends the transaction's SET LOCAL lock_timeout and statement_timeout in the
-- START's own round trip (one simple query), which pgbench's extended mode cannot send: left out.
START TRANSACTION;
WITH hold AS (
  INSERT INTO holds (id, reservation_id, warehouse_id, sku, quantity, status, expires_at)
  VALUES ('pgb.' || :h || '.1', 'pgb.' || :h, :w, 'PGB-' || :s, 1, 'held', now() + make_interval(secs => 960))
  ON CONFLICT (id) DO NOTHING RETURNING 1
), reserved AS (
  UPDATE stock SET reserved = reserved + 1, version = version + 1, updated_at = now()
   WHERE warehouse_id = :w AND sku = 'PGB-' || :s AND on_hand - reserved - safety_stock >= 1
     AND EXISTS (SELECT 1 FROM hold)
   RETURNING warehouse_id, sku, region, on_hand, reserved, safety_stock, incoming, backordered, version, updated_at, low_stock_threshold, low_stock
)
SELECT EXISTS (SELECT 1 FROM hold) AS inserted, r.* FROM (SELECT 1) AS one LEFT JOIN reserved r ON true
\gset row_
INSERT INTO stock_movements (warehouse_id, sku, shard, kind, delta, reason, on_hand_after, reserved_after, safety_stock_after, version,
                             actor, request_id, idempotency_key)
  VALUES (:w, 'PGB-' || :s, 0, 'hold', 0, 'reservation', :row_on_hand, :row_reserved, :row_safety_stock, :row_version,
          'reservation' || chr(58) || 'pgb.' || :h, NULL, NULL)
  RETURNING seq, id, warehouse_id, sku, kind, delta, reason, on_hand_after, reserved_after, safety_stock_after, version, actor, request_id, idempotency_key, created_at;
INSERT INTO outbox (topic, partition, key, headers, value, compact_topic, compact_key)
  VALUES ('stockmesh.stock.v1', 0, 'PGB-' || :s, :headers::jsonb, :value, 'stockmesh.stock-state.v1', :w::text || '/PGB-' || :s);
COMMIT;
