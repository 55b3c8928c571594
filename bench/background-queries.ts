// What each background query costs on a database whose history is large and whose open work is
// small: ~1,000,000 finished rows per table, a few dozen open ones. Prints, per query, the plan's
// access path and its execution time (EXPLAIN ANALYZE, each in a transaction rolled back), first
// without and then with the retention indexes (migration Retention1764400000000).
//
//   npm run -s build && node dist/bench/background-queries.js     (BENCH_ROWS=1000000 by default)
//
// The statements are those of the repository methods named next to them, with the parameters a
// sweeper passes; the repositories are internal to their modules, so they are restated here.

import 'reflect-metadata';
import { dropDatabases, ensureDatabase, migrateDatabase } from '@stockmesh/persistence';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { positiveInt, say } from './bench-support.js';

const ROWS = positiveInt('BENCH_ROWS', 1_000_000);
const DAY = `interval '1 day'`;
const RETENTION_INDEXES = ['reservations_final', 'holds_finished', 'transfer_receipts_by_age'];

interface Query {
  readonly name: string;
  readonly sql: string;
  readonly params: readonly unknown[];
}

const now = new Date();
const daysAgo = (days: number): Date => new Date(now.getTime() - days * 86_400_000);

const QUERIES: readonly Query[] = [
  {
    name: 'ReservationRepository.abandonStale',
    sql: `UPDATE reservations SET status = 'failed', answer_status = 409, answer = $1::json, lease_until = NULL, updated_at = now()
          WHERE id IN (SELECT id FROM reservations WHERE status = 'pending' AND lease_until < $2 LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id`,
    params: ['{}', now, 100],
  },
  {
    name: 'ReservationRepository.expireDue',
    sql: `UPDATE reservations SET status = 'expired', updated_at = now()
          WHERE id IN (SELECT id FROM reservations WHERE status = 'held' AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
          RETURNING id`,
    params: [now, 100],
  },
  {
    name: 'ReservationRepository.claimDue',
    sql: `UPDATE reservation_allocations SET next_attempt_at = $2, attempts = attempts + 1
          WHERE (reservation_id, allocation_no) IN (
            SELECT reservation_id, allocation_no FROM reservation_allocations
             WHERE target IS NOT NULL AND state IN ('intent', 'held') AND next_attempt_at <= $1 AND ($4::text IS NULL OR reservation_id = $4)
             ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
          RETURNING reservation_id`,
    params: [now, new Date(now.getTime() + 30_000), 100, null],
  },
  {
    name: 'HoldRepository.releaseExpired',
    sql: `UPDATE holds SET status = 'released', updated_at = now()
          WHERE status = 'held' AND id IN (
            SELECT id FROM holds WHERE status = 'held' AND expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
          RETURNING id`,
    params: [daysAgo(300 / 86_400), 100],
  },
  {
    name: 'ReservationRepository.pruneFinished',
    sql: `WITH doomed AS (
            SELECT ARRAY(
              SELECT id FROM reservations r
               WHERE status IN ('committed', 'commit-failed', 'released', 'expired', 'failed') AND updated_at < $1
                 AND NOT EXISTS (SELECT 1 FROM reservation_allocations a WHERE a.reservation_id = r.id AND a.state IN ('intent', 'held'))
               ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED) AS ids),
          allocations AS (DELETE FROM reservation_allocations WHERE reservation_id = ANY((SELECT ids FROM doomed)::text[]))
          DELETE FROM reservations WHERE id = ANY((SELECT ids FROM doomed)::text[]) RETURNING 1 AS deleted`,
    params: [daysAgo(7), 1_000],
  },
  {
    name: 'HoldRepository.pruneFinished',
    sql: `DELETE FROM holds WHERE status <> 'held' AND id = ANY(ARRAY(
            SELECT id FROM holds WHERE status <> 'held' AND updated_at < $1 ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED))
          RETURNING 1 AS deleted`,
    params: [daysAgo(7), 1_000],
  },
  {
    name: 'IdempotencyRepository.pruneExpired',
    sql: `DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))
          RETURNING 1 AS deleted`,
    params: [daysAgo(1), 1_000],
  },
  {
    name: 'TransferRepository.pruneReceipts',
    sql: `DELETE FROM transfer_receipts WHERE transfer_id = ANY(ARRAY(
            SELECT transfer_id FROM transfer_receipts WHERE received_at < $1 ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED))
          RETURNING 1 AS deleted`,
    params: [daysAgo(35), 1_000],
  },
];

/** ~ROWS finished rows per table, spread over 60 days, and a few dozen open ones. */
async function fill(client: pg.Client): Promise<void> {
  const spread = (column: string) => `${column} - (random() * 60) * ${DAY}`;
  await client.query(`
    INSERT INTO reservations (id, status, idempotency_key, fingerprint, ttl_seconds, allow_split, lines, expires_at, created_at, updated_at)
    SELECT 'us-east.f' || g, (ARRAY['committed', 'released', 'expired', 'failed'])[1 + g % 4], 'kf' || g, 'x', 900, true, '[]',
           t, t, t
      FROM generate_series(1, ${ROWS}) g, LATERAL (SELECT ${spread('now()')} AS t) s`);
  await client.query(`
    INSERT INTO reservation_allocations (reservation_id, allocation_no, line_no, sku, warehouse_id, region, quantity, state, target, updated_at)
    SELECT id, 0, 0, 'SKU', 'w', 'us-east', 1, CASE WHEN status = 'committed' THEN 'committed' ELSE 'released' END,
           CASE WHEN status = 'committed' THEN 'commit' ELSE 'release' END, updated_at
      FROM reservations`);
  // Open work: held (expiring later), pending (lease alive), committing (an owner down: backoff).
  await client.query(`
    INSERT INTO reservations (id, status, idempotency_key, fingerprint, ttl_seconds, allow_split, lines, expires_at, lease_until)
    SELECT 'us-east.o' || g, (ARRAY['held', 'pending', 'committing'])[1 + g % 3], 'ko' || g, 'x', 900, true, '[]',
           CASE WHEN g % 3 = 0 THEN now() + interval '10 minutes' END, CASE WHEN g % 3 = 1 THEN now() + interval '15 seconds' END
      FROM generate_series(1, 60) g`);
  await client.query(`
    INSERT INTO reservation_allocations (reservation_id, allocation_no, line_no, sku, warehouse_id, region, quantity, state, target, next_attempt_at)
    SELECT id, 0, 0, 'SKU', 'w', 'us-east', 1, CASE WHEN status = 'pending' THEN 'intent' ELSE 'held' END,
           CASE WHEN status = 'committing' THEN 'commit' END, now() + interval '30 seconds'
      FROM reservations WHERE id LIKE 'us-east.o%'`);
  await client.query(`
    INSERT INTO holds (id, reservation_id, warehouse_id, sku, quantity, status, created_at, updated_at)
    SELECT 'eu-west.f' || g || '/0', 'eu-west.f' || g, 'w', 'SKU', g % 2, (ARRAY['committed', 'released'])[1 + g % 2], t, t
      FROM generate_series(1, ${ROWS}) g, LATERAL (SELECT ${spread('now()')} AS t) s`);
  await client.query(`
    INSERT INTO holds (id, reservation_id, warehouse_id, sku, quantity, status, expires_at)
    SELECT 'eu-west.o' || g || '/0', 'eu-west.o' || g, 'w', 'SKU', 1, 'held', now() + interval '10 minutes' FROM generate_series(1, 60) g`);
  await client.query(`
    INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, response, created_at)
    SELECT 'anonymous POST /v1/warehouses/w/stock/SKU/adjustments', 'k' || g, 'x', 201, '{}', ${spread('now()')}
      FROM generate_series(1, ${ROWS}) g`);
  await client.query(`
    INSERT INTO transfer_receipts (transfer_id, sku, from_warehouse_id, from_region, to_warehouse_id, quantity, outcome, received_at)
    SELECT 'eu-west.t' || g, 'SKU', 'a', 'eu-west', 'w', 1, 'received', ${spread('now()')} FROM generate_series(1, ${ROWS}) g`);
  await client.query(`VACUUM ANALYZE`);
}

interface Measured {
  readonly path: string;
  readonly firstMs: number;
  readonly warmMs: number;
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** The scans of a plan, e.g. `Index Scan reservations_final`, `Seq Scan reservations`. */
function scans(node: PlanNode): string[] {
  const own = /Scan/.test(node['Node Type']) ? [`${node['Node Type']} ${node['Index Name'] ?? node['Relation Name'] ?? ''}`.trim()] : [];
  return [...own, ...(node.Plans ?? []).flatMap(scans)];
}

async function measure(client: pg.Client, query: Query): Promise<Measured> {
  const times: number[] = [];
  let path = '';
  for (let run = 0; run < 3; run++) {
    await client.query('BEGIN');
    try {
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }] }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query.sql}`,
        [...query.params],
      );
      const [plan] = rows[0]['QUERY PLAN'];
      times.push(plan['Execution Time']);
      path = [...new Set(scans(plan.Plan))].join(', ');
    } finally {
      await client.query('ROLLBACK');
    }
  }
  return { path, firstMs: times[0], warmMs: times[2] };
}

async function report(client: pg.Client, title: string): Promise<void> {
  say(title);
  for (const query of QUERIES) {
    const m = await measure(client, query);
    console.log(
      `  ${query.name.padEnd(36)} ${m.firstMs.toFixed(1).padStart(8)} ms first, ${m.warmMs.toFixed(1).padStart(8)} ms warm   ${m.path}`,
    );
  }
}

async function main(): Promise<void> {
  const server = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const name = `smb_background_${randomBytes(3).toString('hex')}`;
  const url = Object.assign(new URL(server), { pathname: `/${name}` }).toString();
  await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url });
  try {
    await migrateDatabase({ name, url });
    await client.connect();
    say(`filling ${name}: ${ROWS} finished rows per table and 60 open ones (reservations, holds)`);
    const started = Date.now();
    await fill(client);
    say(`filled in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    for (const index of RETENTION_INDEXES) await client.query(`ALTER INDEX ${index} RENAME TO ${index}_off`);
    for (const index of RETENTION_INDEXES) await client.query(`DROP INDEX ${index}_off`);
    await report(client, 'without the retention indexes');
    await client.query(`CREATE INDEX reservations_final ON reservations (updated_at)
                          WHERE status IN ('committed', 'commit-failed', 'released', 'expired', 'failed')`);
    await client.query(`CREATE INDEX holds_finished ON holds (updated_at) WHERE status <> 'held'`);
    await client.query(`CREATE INDEX transfer_receipts_by_age ON transfer_receipts (received_at)`);
    await client.query(`ANALYZE`);
    await report(client, 'with the retention indexes (migration Retention1764400000000)');
  } finally {
    await client.end().catch(() => undefined);
    await dropDatabases([url]);
  }
}

main().catch((error: unknown) => {
  console.error(`bench: failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
