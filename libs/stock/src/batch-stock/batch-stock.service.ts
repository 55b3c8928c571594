import { Inject, Injectable, Logger } from '@nestjs/common';
import { KitsService } from '@stockmesh/catalog';
import { APP_CONFIG, type AppConfig, type RegionConfig } from '@stockmesh/config';
import { classify, OwnerDirectory, problemBody, type CallerIdentity, type RequestOrigin } from '@stockmesh/http';
import { IdempotencyRepository, ShardDatabases, type IdempotentRequest, type SqlTx } from '@stockmesh/persistence';
import type { ShardDatabase } from '@stockmesh/sharding';
import { shardOf } from '@stockmesh/sharding';
import { StockChangeOutbox, type OwnRowChange } from '../stock-change-outbox.js';
import { applyChange, lowStockThresholdAfter, storefrontAvailable, type StockLevel } from '../stock-level.js';
import { StockException } from '../stock.exception.js';
import { StockRepository, type OwnStockRecord, type StockKey } from '../stock.repository.js';
import { changeOf, reasonOf, rowIdempotency } from './batch-rows.js';
import { BatchForwarder } from './batch-forwarder.js';
import type { BatchStockRow } from './batch-stock.request.dto.js';
import type { BatchRowResultView, BatchStockLevelView, BatchStockResultView } from './batch-stock.views.js';

/** Who sent a batch and how it arrived. */
export interface BatchContext {
  readonly origin: RequestOrigin;
  /** The caller's idempotency scope on the batch route (`idempotencyScope`). */
  readonly scope: string;
  /** The request's Idempotency-Key header, from which rows without their own key derive one. */
  readonly requestKey?: string;
  /** Set when another region forwarded the batch here: it is never forwarded again. */
  readonly forwardedFrom?: string;
  /** The client, for the rows this region forwards to their owners. */
  readonly caller?: CallerIdentity;
}

/** A row this region owns, on its way into one database's transaction. */
interface LocalRow {
  readonly index: number;
  readonly row: BatchStockRow;
  readonly shard: number;
  readonly request?: IdempotentRequest;
}

/** The stored (and returned) answer of one applied row. */
interface RowAnswer {
  readonly status: number;
  readonly body: BatchStockLevelView | Record<string, unknown>;
}

const rowId = (key: StockKey): string => `${key.warehouseId}\u0000${key.sku}`;

/**
 * Bulk counts and adjustments (`POST /v1/stock/batch`). Each row is decided on its own and its
 * result reported, never hidden behind the others': rows of this region's warehouses are applied
 * here, one transaction per database for all of its rows, with set-based statements (key claims,
 * row creation and locks, the update, the ledger), each changed row getting its version bumped
 * once, its ledger entry and its `stock.changed` event in the outbox, exactly as a single write.
 * Rows of other regions' warehouses are forwarded to their owner, one signed call per owner.
 * A refused row changes nothing and stores nothing under its key, as a refused single write.
 */
@Injectable()
export class BatchStockService {
  private readonly logger = new Logger(BatchStockService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly repository: StockRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly events: StockChangeOutbox,
    private readonly directory: OwnerDirectory,
    private readonly forwarder: BatchForwarder,
    private readonly kits: KitsService,
  ) {}

  /** Applies a validated batch (see `batchRowErrors`); one result per row, in request order. */
  async apply(rows: readonly BatchStockRow[], context: BatchContext): Promise<BatchStockResultView> {
    const results: (BatchRowResultView | undefined)[] = new Array(rows.length);
    const refuse = (index: number, problem: Record<string, unknown>): void => {
      results[index] = this.refused(index, rows[index], problem);
    };
    const owners = await this.ownersOf(rows);
    const kits = await this.kits.kitsAmong([...new Set(rows.map((r) => r.sku))]);
    const local: LocalRow[] = [];
    const remote = new Map<string, { owner: RegionConfig; indices: number[] }>();
    rows.forEach((row, index) => {
      const owner = owners.get(row.warehouseId);
      if (kits.has(row.sku)) {
        // A kit's units are its components: a row of its own would be counted and sold by no one.
        refuse(index, problemBody('kit-not-stocked', `${row.sku} is a kit: count or adjust its components instead`, { sku: row.sku }));
      } else if (owner === undefined) {
        refuse(
          index,
          problemBody('warehouse-not-found', `warehouse ${row.warehouseId} is not registered`, { warehouseId: row.warehouseId }),
        );
      } else if ('missing' in owner) {
        refuse(
          index,
          problemBody(
            'region-unavailable',
            `warehouse ${row.warehouseId} belongs to region ${owner.missing}, which is not in this cluster`,
          ),
        );
      } else if (owner.id === this.config.region.id) {
        const shard = shardOf(row.sku, this.config.cluster.shardCount);
        local.push({ index, row, shard, request: rowIdempotency(row, context.scope, context.requestKey) });
      } else if (context.forwardedFrom !== undefined) {
        // Forwarded once already: the two regions' catalogs disagree about this warehouse.
        refuse(
          index,
          problemBody(
            'misdirected-request',
            `region ${this.config.region.id} does not own warehouse ${row.warehouseId}; ${owner.id} does`,
            {
              owner: owner.id,
            },
          ),
        );
      } else {
        const group = remote.get(owner.id) ?? { owner, indices: [] };
        group.indices.push(index);
        remote.set(owner.id, group);
      }
    });

    const byDatabase = new Map<string, { db: ShardDatabase; rows: LocalRow[] }>();
    for (const item of local) {
      const db = this.databases.databaseFor(item.shard);
      const group = byDatabase.get(db.name) ?? { db, rows: [] };
      group.rows.push(item);
      byDatabase.set(db.name, group);
    }
    await Promise.all([
      ...[...byDatabase.values()].map(async ({ db, rows: group }) => {
        try {
          const answers = await this.databases.inDatabase(db, (tx) => this.applyGroup(tx, group, context));
          for (const [index, answer] of answers) results[index] = answer;
        } catch (error) {
          // The database's transaction failed as a whole (unreachable, busy): its rows changed nothing.
          const { code, detail, extensions, status } = classify(error);
          if (status >= 500 && code === 'internal-error') this.logger.error(`batch rows on ${db.name} failed: ${(error as Error).stack}`);
          for (const item of group) refuse(item.index, problemBody(code, detail ?? `the rows of database ${db.name} failed`, extensions));
        }
      }),
      ...[...remote.values()].map(async ({ owner, indices }) => {
        const outcome = await this.forwarder.forward(
          owner,
          indices.map((i) => rows[i]),
          { requestId: context.origin.requestId, idempotencyKey: context.requestKey, caller: context.caller },
        );
        indices.forEach((index, j) => {
          results[index] =
            outcome.kind === 'answered' ? { ...outcome.results[j], index } : this.refused(index, rows[index], outcome.problem);
        });
      }),
    ]);

    const complete = results.map((result, index) => result ?? this.refused(index, rows[index], problemBody('internal-error', 'no result')));
    const failed = complete.filter((r) => r.problem !== undefined).length;
    const forwarded = [...remote.values()].reduce((sum, group) => sum + group.indices.length, 0);
    return {
      summary: {
        rows: complete.length,
        succeeded: complete.length - failed,
        failed,
        replayed: complete.filter((r) => r.replayed).length,
        forwarded,
      },
      results: complete,
    };
  }

  /**
   * One database's rows in its transaction: claim their keys, make and lock their rows (in key
   * order), decide each change on the locked row, then write every accepted change with one
   * statement per table. Refused rows leave nothing behind: their empty rows are removed and
   * their keys given back.
   */
  private async applyGroup(tx: SqlTx, group: readonly LocalRow[], context: BatchContext): Promise<Map<number, BatchRowResultView>> {
    const answers = new Map<number, BatchRowResultView>();
    const keyed = group.filter((item) => item.request !== undefined);
    const claims = await this.idempotency.claimMany(
      tx,
      keyed.map((item) => item.request as IdempotentRequest),
    );
    const fresh: LocalRow[] = group.filter((item) => item.request === undefined);
    keyed.forEach((item, i) => {
      const claim = claims[i];
      if (claim.outcome === 'fresh') fresh.push(item);
      else if (claim.outcome === 'replay') answers.set(item.index, this.answered(item, claim as RowAnswer, true));
      else {
        const key = (item.request as IdempotentRequest).key;
        answers.set(
          item.index,
          this.refused(
            item.index,
            item.row,
            problemBody('idempotency-key-reused', `Idempotency-Key ${key} was already used with a different row`),
          ),
        );
      }
    });

    const region = this.config.region.id;
    await this.repository.createEmptyMany(
      tx,
      fresh.map(({ row, shard }) => ({ warehouseId: row.warehouseId, sku: row.sku, shard })),
      region,
    );
    const locked = new Map(
      (
        await this.repository.lockMany(
          tx,
          fresh.map(({ row }) => row),
        )
      ).map((r) => [rowId(r), r]),
    );

    const accepted: { item: LocalRow; level: StockLevel; lowStockThreshold: number; delta: number }[] = [];
    const refused: LocalRow[] = [];
    for (const item of fresh) {
      const current = locked.get(rowId(item.row));
      if (!current) throw new Error(`stock row ${item.row.warehouseId}/${item.row.sku} vanished after insert`);
      try {
        const change = changeOf(item.row);
        const { next, delta } = applyChange(current, change);
        accepted.push({ item, level: next, lowStockThreshold: lowStockThresholdAfter(current.lowStockThreshold, change), delta });
      } catch (error) {
        if (!(error instanceof StockException)) throw error;
        refused.push(item);
        answers.set(item.index, this.refused(item.index, item.row, problemBody(error.code, error.message, error.extensions)));
      }
    }

    const saved = new Map(
      (
        await this.repository.saveMany(
          tx,
          accepted.map(({ item, level, lowStockThreshold }) => ({
            warehouseId: item.row.warehouseId,
            sku: item.row.sku,
            level,
            lowStockThreshold,
          })),
        )
      ).map((r) => [rowId(r), r]),
    );
    await this.repository.deleteEmpty(
      tx,
      refused.map(({ row }) => row),
    );
    const movements = new Map(
      (
        await this.repository.appendMovements(
          tx,
          accepted.map(({ item, level, delta }) => ({
            warehouseId: item.row.warehouseId,
            sku: item.row.sku,
            shard: item.shard,
            kind: item.row.op === 'set' ? 'set' : 'adjustment',
            delta,
            reason: reasonOf(item.row),
            after: level,
            actor: context.origin.actor,
            requestId: context.origin.requestId,
            idempotencyKey: item.request?.key ?? null,
          })),
        )
      ).map((m) => [rowId(m), m]),
    );
    const stored: { request: IdempotentRequest; status: number; body: unknown }[] = [];
    const changes = accepted.map(({ item }): OwnRowChange => {
      const record = saved.get(rowId(item.row)) as OwnStockRecord;
      const movement = movements.get(rowId(item.row));
      if (!movement) throw new Error(`no ledger entry came back for ${item.row.warehouseId}/${item.row.sku}`);
      const answer: RowAnswer = {
        status: item.row.op === 'set' ? 200 : 201,
        body: {
          region: record.region,
          onHand: record.onHand,
          reserved: record.reserved,
          safetyStock: record.safetyStock,
          available: storefrontAvailable(record),
          lowStockThreshold: record.lowStockThreshold,
          version: record.version,
          updatedAt: record.updatedAt.toISOString(),
          movementId: movement.id,
          delta: movement.delta,
        } satisfies BatchStockLevelView,
      };
      answers.set(item.index, this.answered(item, answer, false));
      if (item.request) stored.push({ request: item.request, ...answer });
      return { record, shard: item.shard, movement, requestId: context.origin.requestId };
    });
    await this.events.append(tx, changes);
    await this.idempotency.completeMany(tx, stored);
    await this.idempotency.unclaimMany(
      tx,
      refused.flatMap((item) => (item.request ? [item.request] : [])),
    );
    // A replayed or mismatched key was not claimed here, so it is not given back.
    return answers;
  }

  /** The region owning each distinct warehouse of the batch: its config, `missing` when not in the cluster, absent when unknown. */
  private async ownersOf(rows: readonly BatchStockRow[]): Promise<Map<string, RegionConfig | { missing: string }>> {
    const owners = new Map<string, RegionConfig | { missing: string }>();
    const ids = [...new Set(rows.map((r) => r.warehouseId))];
    const found = await Promise.all(ids.map((id) => this.directory.ownerOfWarehouse(id)));
    ids.forEach((id, i) => {
      const ownerId = found[i];
      if (ownerId === undefined) return;
      owners.set(id, this.config.cluster.regions.find((r) => r.id === ownerId) ?? { missing: ownerId });
    });
    return owners;
  }

  private answered(item: LocalRow, answer: RowAnswer, replayed: boolean): BatchRowResultView {
    const base = { index: item.index, warehouseId: item.row.warehouseId, sku: item.row.sku, status: answer.status, replayed };
    return answer.status >= 400
      ? { ...base, problem: answer.body as Record<string, unknown> }
      : { ...base, level: answer.body as BatchStockLevelView };
  }

  private refused(index: number, row: BatchStockRow, problem: Record<string, unknown>): BatchRowResultView {
    return { index, warehouseId: row.warehouseId, sku: row.sku, status: Number(problem.status ?? 500), replayed: false, problem };
  }
}
