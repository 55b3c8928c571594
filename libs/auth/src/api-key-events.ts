import { EVENT_TYPES, newEvent, signApiKeyChange, TOPICS, toKafkaRecord, type UnsignedApiKeyChange } from '@stockmesh/contracts';
import type { OutboxEntry } from '@stockmesh/replication';
import type { ApiKeyRecord } from './api-key.js';

/**
 * `io.stockmesh.api-key.changed.v1` on the compacted API-key topic, keyed by key id: compaction
 * keeps each key's latest state, so a revoked key stays on the topic as revoked (its tombstone)
 * and a region that joins later learns it too. The hash travels, never the secret. Signed with
 * the cluster secret (`clusterSecret`): the other regions apply no unsigned change.
 */
export function apiKeyChangedEntry(key: ApiKeyRecord, source: string, requestId: string | null, clusterSecret: Buffer): OutboxEntry {
  const unsigned: UnsignedApiKeyChange = {
    id: key.id,
    name: key.name,
    scopes: [...key.scopes],
    secretHash: key.secretHash,
    region: key.region,
    version: key.version,
    createdAt: key.createdAt,
    revokedAt: key.revokedAt,
    // Only a bound key carries the field: an unbound one's record is signed as before channels.
    ...(key.channel === null ? {} : { channel: key.channel }),
  };
  const data = { ...unsigned, signature: signApiKeyChange(clusterSecret, source, unsigned) };
  const event = newEvent({
    source,
    type: EVENT_TYPES.apiKeyChanged,
    time: key.revokedAt ?? key.createdAt,
    subject: `api-keys/${key.id}`,
    correlationid: requestId ?? undefined,
    data,
  });
  return { topic: TOPICS.apiKeys, partition: 0, record: toKafkaRecord(event, key.id) };
}
