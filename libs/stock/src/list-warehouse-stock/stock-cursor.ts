import { IDENTIFIER_PATTERN } from '@stockmesh/contracts';

/**
 * The opaque cursor of a warehouse's stock pages: the last SKU of the page, as base64url JSON.
 * Clients pass it back unchanged; only its shape is promised (a string), so what it holds may
 * change without breaking them.
 */
export function encodeStockCursor(lastSku: string): string {
  return Buffer.from(JSON.stringify({ after: lastSku }), 'utf8').toString('base64url');
}

/** The SKU a cursor continues after, or `undefined` when it is not a cursor this API made. */
export function decodeStockCursor(cursor: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    return typeof parsed.after === 'string' && IDENTIFIER_PATTERN.test(parsed.after) ? parsed.after : undefined;
  } catch {
    return undefined;
  }
}
