-- The conditional update a hold turns on (the UPDATE of StockRepository.insertHoldAndReserve), alone, one transaction per
-- statement (autocommit). Run by `npm run bench:reservations` with pgbench -M extended and
--   -D w=<warehouse id>   the rows' warehouse
--   -D n=<row count>      rows PGB-0 .. PGB-(n-1) of that warehouse, picked at random; n=1 is one hot row
\set s random(0, :n - 1)
UPDATE stock SET reserved = reserved + 1, version = version + 1, updated_at = now()
  WHERE warehouse_id = :w AND sku = 'PGB-' || :s AND on_hand - reserved >= 1;
