import type { KafkaRecord } from '@stockmesh/contracts';
import type { IncomingMessage } from '@stockmesh/messaging';

/**
 * Numbers records as Kafka would in one partition, for suites that hand batches to a Replicator
 * directly: each partition's offsets go on from where the last call left them (per `offsets`).
 */
export function numberedMessages(
  offsets: Map<string, bigint>,
  topic: string,
  partition: number,
  records: readonly KafkaRecord[],
  scope = '',
): IncomingMessage[] {
  const at = `${scope}/${topic}/${partition}`;
  let next = offsets.get(at) ?? 0n;
  const messages = records.map((r) => ({
    topic,
    partition,
    offset: String(next++),
    key: r.key,
    value: Buffer.from(r.value),
    headers: r.headers,
    timestamp: Date.now(),
  }));
  offsets.set(at, next);
  return messages;
}
