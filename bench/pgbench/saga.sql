-- Every statement a single-line cart held in the coordinator's own region costs, in the
-- transactions and order ReservationsService.create runs them (for a key without quotas, as the
-- benchmark's is), without HTTP, Nest or Node.js in between: the database's share of one
-- reservation. Everything runs on one database here (the cluster puts the coordinator's tables on
-- its home database and the hold on the SKU's shard database, which is the same one for half of
-- the SKUs). One pgbench "transaction" is one whole reservation. Variables (pgbench -D), besides
-- w, n, headers and value as in hold-transaction.sql
--   answer   the 201 answer stored for replay (JSON)
\set s random(0, :n - 1)
\set h random(1, 9000000000000000000)
-- 1. the lines' kits (KitsService.kitsAmong, outside a transaction)
SELECT sku, region, components, version, created_at, updated_at FROM kits WHERE sku = ANY(ARRAY['PGB-' || :s]);
-- 2. the global view of the SKU (AvailabilityRepository.rows, outside a transaction)
SELECT sku, warehouse_id, region, on_hand, reserved, safety_stock, incoming, backordered, version, updated_at, updated_at AS applied_at
    FROM stock WHERE sku = ANY(ARRAY['PGB-' || :s]) AND version > 0
  UNION ALL
  SELECT sku, warehouse_id, region, on_hand, reserved, safety_stock, incoming, backordered, version, updated_at, applied_at
    FROM stock_replica WHERE sku = ANY(ARRAY['PGB-' || :s])
  ORDER BY sku, warehouse_id;
-- 3. the reservation, pending under its Idempotency-Key, with the intent of its hold, in one
--    statement outside a transaction (ReservationRepository.insertPendingWithIntent)
WITH inserted AS (
  INSERT INTO reservations (id, status, idempotency_key, fingerprint, created_by, units, reference, ttl_seconds, allow_split, lines, lease_until, channel)
  VALUES ('pgb.' || :h, 'pending', 'pgb-key-' || :h, 'pgb-fingerprint-0000000000000000000000000000', 'pgb-key', 1, NULL, 900, false,
          jsonb_build_array(jsonb_build_object('sku', 'PGB-' || :s, 'quantity', 1)), now() + make_interval(secs => 15), NULL)
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id, status, idempotency_key, fingerprint, created_by, reference, ttl_seconds, allow_split, channel, lines, expires_at, answer_status, answer, created_at, updated_at
), intent AS (
  INSERT INTO reservation_allocations (reservation_id, allocation_no, line_no, sku, warehouse_id, region, quantity, state)
  SELECT id, 1, 0, 'PGB-' || :s, :w, 'us-east', 1, 'intent' FROM inserted
)
SELECT * FROM inserted;
-- 4. the hold at the owner (HoldService.place, a hold alone in its batch), as in hold-transaction.sql
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
-- 5. the decision, with the answer to replay and the intent held, in one statement outside a
--    transaction (ReservationRepository.decide)
WITH decided AS (
  UPDATE reservations SET status = 'held', answer_status = 201, answer = :answer::json, expires_at = now() + make_interval(secs => 900),
         lease_until = NULL, updated_at = now()
   WHERE id = 'pgb.' || :h AND status = 'pending' RETURNING id
), next AS (
  SELECT a.allocation_no, s.allocation_no IS NOT NULL AS answered,
         CASE WHEN s.allocation_no IS NOT NULL THEN s.state ELSE a.state END AS state,
         CASE WHEN s.allocation_no IS NOT NULL THEN s.backordered ELSE a.backordered END AS backordered
    FROM decided d
    JOIN reservation_allocations a ON a.reservation_id = d.id
    LEFT JOIN unnest(ARRAY[1], ARRAY['held'], ARRAY[0::bigint]) AS s (allocation_no, state, backordered)
      ON s.allocation_no = a.allocation_no AND a.state = 'intent'
), changed AS (
  UPDATE reservation_allocations a
     SET state = n.state, backordered = n.backordered,
         target = CASE WHEN n.state = 'intent' THEN 'release' ELSE a.target END,
         next_attempt_at = CASE WHEN n.state = 'intent' THEN '-infinity' ELSE a.next_attempt_at END,
         updated_at = now()
    FROM next n
   WHERE a.reservation_id = 'pgb.' || :h AND a.allocation_no = n.allocation_no AND (n.answered OR n.state = 'intent')
)
SELECT count(*)::int AS decided FROM decided;
