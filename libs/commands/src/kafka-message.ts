import type { KafkaContext } from '@nestjs/microservices';
import type { IncomingMessage } from '@stockmesh/messaging';

/**
 * The record Nest's Kafka transport handed over, as the project's `IncomingMessage`: the topic
 * without the prefix (names inside records never carry it), the value as the bytes on the wire
 * (the transport runs with `keepBinary`), key and headers as text.
 */
export function incomingMessageOf(context: KafkaContext, payload: unknown, topicPrefix: string): IncomingMessage {
  const raw = context.getMessage();
  const topic = context.getTopic();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw.headers ?? {})) {
    const header = text(Array.isArray(value) ? value[0] : value);
    if (header !== null) headers[name] = header;
  }
  return {
    topic: topic.startsWith(topicPrefix) ? topic.slice(topicPrefix.length) : topic,
    partition: context.getPartition(),
    offset: raw.offset,
    key: text(raw.key),
    // The transport's payload is the value, or the whole message when the value is null.
    value: Buffer.isBuffer(payload) ? payload : null,
    headers,
    timestamp: Number(raw.timestamp),
  };
}

/**
 * Nest's Kafka parser decodes keys and header values to strings, and JSON-parses those that
 * look like JSON objects or arrays: this turns them back into text.
 */
function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString();
  return JSON.stringify(value);
}
