import { TRANSFER_ID_PATTERN } from '@stockmesh/contracts';
import type { TransferPosition } from '../transfer.repository.js';

/**
 * The opaque cursor of the transfers' pages: the last transfer of the page (its creation time in
 * microseconds and its id), as base64url JSON. Only its shape is promised (a string).
 */
export function encodeTransferCursor(last: TransferPosition): string {
  return Buffer.from(JSON.stringify({ at: last.createdAtMicros, id: last.id }), 'utf8').toString('base64url');
}

/** The position a cursor continues after, or `undefined` when it is not a cursor this API made. */
export function decodeTransferCursor(cursor: string): TransferPosition | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { at?: unknown; id?: unknown };
    const { at, id } = parsed ?? {};
    if (typeof at !== 'string' || !/^\d{1,18}$/.test(at) || typeof id !== 'string' || !TRANSFER_ID_PATTERN.test(id)) return undefined;
    return { createdAtMicros: at, id };
  } catch {
    return undefined;
  }
}
