import type { FieldError } from '@stockmesh/contracts';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import { countReason, type StockChange } from '../stock-level.js';
import type { BatchStockRow } from './batch-stock.request.dto.js';

/**
 * What a batch's rows must satisfy together, beyond each field's own bounds: each row names the
 * quantity its operation needs (and not the other's; a count sets `quantity`, `safetyStock`,
 * `lowStockThreshold` or several, an adjustment neither of the last two), an adjustment names its reason, a count no
 * other reason than `cycle-count`, and no (warehouse, SKU) or row key appears twice (two changes
 * of one row in one request would make its result depend on their order). One error per
 * offending field, with its dotted path (`rows.3.delta`); empty when the batch is valid.
 */
export function batchRowErrors(rows: readonly BatchStockRow[]): FieldError[] {
  const errors: FieldError[] = [];
  const firstOfRow = new Map<string, number>();
  const firstOfKey = new Map<string, number>();
  rows.forEach((row, i) => {
    const at = (field: string, constraint: string, message: string): void => {
      errors.push({ field: `rows.${i}.${field}`, constraint, message });
    };
    if (row.op === 'set') {
      if (row.quantity === undefined && row.safetyStock === undefined && row.lowStockThreshold === undefined) {
        at('quantity', 'isDefined', `rows.${i}.quantity is required for a set row, unless it sets safetyStock or lowStockThreshold`);
      }
      if (row.delta !== undefined) at('delta', 'isEmpty', `rows.${i}.delta is only for an adjust row; a set row takes quantity`);
      if (row.reason !== undefined && row.reason !== 'cycle-count') {
        at('reason', 'equals', `rows.${i}.reason of a set row may only be cycle-count`);
      }
    } else {
      if (row.delta === undefined) at('delta', 'isDefined', `rows.${i}.delta is required for an adjust row`);
      if (row.quantity !== undefined) at('quantity', 'isEmpty', `rows.${i}.quantity is only for a set row; an adjust row takes delta`);
      if (row.safetyStock !== undefined) {
        at('safetyStock', 'isEmpty', `rows.${i}.safetyStock is only for a set row: the safety stock is set, never adjusted`);
      }
      if (row.lowStockThreshold !== undefined) {
        at('lowStockThreshold', 'isEmpty', `rows.${i}.lowStockThreshold is only for a set row: the threshold is set, never adjusted`);
      }
      if (row.reason === undefined) at('reason', 'isDefined', `rows.${i}.reason is required for an adjust row`);
    }
    const identity = `${row.warehouseId}/${row.sku}`;
    const earlier = firstOfRow.get(identity);
    if (earlier === undefined) firstOfRow.set(identity, i);
    else at('sku', 'unique', `rows.${i} changes ${identity} again (first in rows.${earlier}); send one row per warehouse and SKU`);
    if (row.idempotencyKey !== undefined) {
      const first = firstOfKey.get(row.idempotencyKey);
      if (first === undefined) firstOfKey.set(row.idempotencyKey, i);
      else at('idempotencyKey', 'unique', `rows.${i}.idempotencyKey repeats the key of rows.${first}`);
    }
  });
  return errors;
}

/** The change a (valid) row asks for. */
export function changeOf(row: BatchStockRow): StockChange {
  if (row.op === 'adjust') return { kind: 'adjustment', delta: row.delta ?? 0 };
  return {
    kind: 'set',
    ...(row.quantity === undefined ? {} : { onHand: row.quantity }),
    ...(row.safetyStock === undefined ? {} : { safetyStock: row.safetyStock }),
    ...(row.lowStockThreshold === undefined ? {} : { lowStockThreshold: row.lowStockThreshold }),
  };
}

/** The ledger reason of a (valid) row. */
export function reasonOf(row: BatchStockRow): string {
  return row.op === 'set' ? countReason({ onHand: row.quantity, safetyStock: row.safetyStock }) : (row.reason ?? 'correction');
}

/**
 * A row's idempotency identity, or `undefined` when neither the row nor the request has a key.
 * The key is the row's own, else the request's `Idempotency-Key` followed by a space and the
 * row's `warehouseId/sku` (no client key has a space, so the two kinds never meet). Derived from
 * the row's identity rather than its position: a retry may reorder or split the rows, and a
 * region forwarding some rows to their owner sends only those, and the owner derives the same
 * keys. The scope is the batch route's (caller, `POST /v1/stock/batch`); the fingerprint hashes
 * the row without its key, in canonical JSON.
 */
export function rowIdempotency(row: BatchStockRow, scope: string, requestKey: string | undefined): IdempotentRequest | undefined {
  const { idempotencyKey, ...change } = row;
  const key = idempotencyKey ?? (requestKey === undefined ? undefined : `${requestKey} ${row.warehouseId}/${row.sku}`);
  if (key === undefined) return undefined;
  const fingerprint = createHash('sha256')
    .update(stringify({ ...change }) ?? 'null')
    .digest('base64url');
  return { key, scope, fingerprint };
}
