import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ApiKeyChangedData } from './event-types.js';

/** `v1=<base64url HMAC-SHA256>`: the signature an `api-key.changed` record carries in its data. */
export const API_KEY_SIGNATURE_PATTERN = /^v1=[A-Za-z0-9_-]{43}$/;

/** An `api-key.changed` record's data before it is signed. */
export type UnsignedApiKeyChange = Omit<ApiKeyChangedData, 'signature'>;

/**
 * What is signed: the sending region and every field the receiving regions apply, in a fixed
 * order, under a label that no other signature of the cluster secret uses (the region-to-region
 * HTTP signature signs a request line, never a JSON array). A key's channel is signed when it has
 * one, after the rest: a key without one signs exactly as before channels existed, so records
 * already on the topic still verify, and a channel cannot be added to or removed from a record.
 */
function canonical(source: string, d: UnsignedApiKeyChange): string {
  const channel = d.channel ?? null;
  return JSON.stringify([
    'stockmesh api-key.changed v1',
    source,
    d.id,
    d.name,
    [...d.scopes],
    d.secretHash,
    d.region,
    d.version,
    d.createdAt,
    d.revokedAt ?? null,
    ...(channel === null ? [] : [channel]),
  ]);
}

/**
 * Signs a key's change with the cluster secret, which only regions have: a record the broker or
 * anyone else with write access to the topic made cannot carry a valid signature, so no region
 * applies it (a key is a bearer credential valid everywhere, unlike stock, which the receiving
 * region checks against its catalog).
 */
export function signApiKeyChange(secret: Buffer, source: string, data: UnsignedApiKeyChange): string {
  return `v1=${createHmac('sha256', secret).update(canonical(source, data)).digest('base64url')}`;
}

/** Whether `data.signature` is the cluster secret's signature of the rest, from `source`; compared in constant time. */
export function apiKeyChangeSigned(secret: Buffer, source: string, data: ApiKeyChangedData): boolean {
  const expected = Buffer.from(signApiKeyChange(secret, source, data));
  const received = Buffer.from(data.signature);
  return expected.length === received.length && timingSafeEqual(expected, received);
}
