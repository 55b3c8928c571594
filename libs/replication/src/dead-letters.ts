import { TOPICS } from '@stockmesh/contracts';
import type { IncomingMessage, OutgoingMessage } from '@stockmesh/messaging';

/**
 * The dead-letter record of a message that could not be parsed or applied: the original key,
 * value and headers, plus `dlt_*` headers saying where it came from and why it was refused.
 */
export function deadLetter(message: IncomingMessage, reason: string, consumer: string): OutgoingMessage {
  return {
    topic: TOPICS.deadLetter,
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      dlt_reason: reason.slice(0, 1000),
      dlt_topic: message.topic,
      dlt_partition: String(message.partition),
      dlt_offset: message.offset,
      dlt_consumer: consumer,
      dlt_time: new Date().toISOString(),
    },
  };
}
