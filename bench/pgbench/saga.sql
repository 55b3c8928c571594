-- Every statement a single-line cart held in the coordinator's own region costs, in the
-- transactions and order ReservationsService.create runs them, without HTTP, Nest or Node.js in
-- between: the database's share of one reservation. Everything runs on one database here (the
-- cluster puts the coordinator's tables on its home database and the hold on the SKU's shard
-- database, which is the same one for half of the SKUs). One pgbench "transaction" is one
-- whole reservation. Variables (pgbench -D), besides w, n, headers and value as in
-- hold-transaction.sql
--   answer   the 201 answer stored for replay (JSON)
\set s random(0, :n - 1)
\set h random(1, 9000000000000000000)
-- 1. the reservation, pending under its Idempotency-Key (ReservationRepository.insertPending)
START TRANSACTION;
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
INSERT INTO reservations (id, status, idempotency_key, fingerprint, reference, ttl_seconds, allow_split, lines, lease_until)
  VALUES ('pgb.' || :h, 'pending', 'pgb-key-' || :h, 'pgb-fingerprint-0000000000000000000000000000', NULL, 900, true,
          jsonb_build_array(jsonb_build_object('sku', 'PGB-' || :s, 'quantity', 1)), now() + make_interval(secs => 15))
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id, status, idempotency_key, fingerprint, reference, ttl_seconds, allow_split, lines, expires_at, answer_status, answer, created_at, updated_at;
COMMIT;
-- 2. the global view of the SKU (AvailabilityRepository.rows, outside a transaction)
SELECT sku, warehouse_id, region, on_hand, reserved, version, updated_at, updated_at AS applied_at
    FROM stock WHERE sku = ANY(ARRAY['PGB-' || :s]) AND version > 0
  UNION ALL
  SELECT sku, warehouse_id, region, on_hand, reserved, version, updated_at, applied_at
    FROM stock_replica WHERE sku = ANY(ARRAY['PGB-' || :s])
  ORDER BY sku, warehouse_id;
-- 3. the intent, before the owner is asked, renewing the lease (ReservationRepository.addAllocation)
START TRANSACTION;
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
INSERT INTO reservation_allocations (reservation_id, allocation_no, line_no, sku, warehouse_id, region, quantity, state)
  VALUES ('pgb.' || :h, 1, 0, 'PGB-' || :s, :w, 'us-east', 1, 'intent');
UPDATE reservations SET lease_until = now() + make_interval(secs => 15), updated_at = now() WHERE id = 'pgb.' || :h;
COMMIT;
-- 4. the hold at the owner (HoldService.place), as in hold-transaction.sql
START TRANSACTION;
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
INSERT INTO holds (id, reservation_id, warehouse_id, sku, quantity, status)
  VALUES ('pgb.' || :h || '.1', 'pgb.' || :h, :w, 'PGB-' || :s, 1, 'held')
  ON CONFLICT (id) DO NOTHING RETURNING 1 AS inserted;
UPDATE stock SET reserved = reserved + 1, version = version + 1, updated_at = now()
  WHERE warehouse_id = :w AND sku = 'PGB-' || :s AND on_hand - reserved >= 1
  RETURNING warehouse_id, sku, region, on_hand, reserved, version, updated_at
\gset row_
INSERT INTO stock_movements (warehouse_id, sku, shard, kind, delta, reason, on_hand_after, reserved_after, version, actor, request_id, idempotency_key)
  VALUES (:w, 'PGB-' || :s, 0, 'hold', 0, 'reservation', :row_on_hand, :row_reserved, :row_version, 'reservation' || chr(58) || 'pgb.' || :h, NULL, NULL)
  RETURNING seq, id, warehouse_id, sku, kind, delta, reason, on_hand_after, reserved_after, version, actor, request_id, idempotency_key, created_at;
INSERT INTO outbox (topic, partition, key, headers, value, compact_topic, compact_key)
  VALUES ('stockmesh.stock.v1', 0, 'PGB-' || :s, :headers::jsonb, :value, 'stockmesh.stock-state.v1', :w::text || '/PGB-' || :s);
COMMIT;
-- 5. the intent becomes held (ReservationRepository.setAllocationState)
START TRANSACTION;
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
UPDATE reservation_allocations SET state = 'held', updated_at = now() WHERE reservation_id = 'pgb.' || :h AND allocation_no = 1;
COMMIT;
-- 6. the allocations, for the answer (ReservationRepository.allocations)
START TRANSACTION;
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
SELECT reservation_id, allocation_no, line_no, sku, warehouse_id, region, quantity, state
  FROM reservation_allocations WHERE reservation_id = 'pgb.' || :h ORDER BY allocation_no;
COMMIT;
-- 7. the outcome, with the answer to replay (ReservationRepository.decide)
START TRANSACTION;
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
UPDATE reservations SET status = 'held', answer_status = 201, answer = :answer::json, expires_at = now() + make_interval(secs => 900),
    lease_until = NULL, updated_at = now()
  WHERE id = 'pgb.' || :h AND status = 'pending' RETURNING 1 AS decided;
COMMIT;
