import { randomUUID } from 'node:crypto';

/**
 * A CloudEvents 1.0 event as stockmesh publishes it, in the Kafka protocol binding's binary
 * content mode: attributes travel as `ce_*` headers, `data` is the JSON record value, and the
 * record key is the partition key.
 */
export interface CloudEvent<T extends string = string, D = unknown> {
  readonly specversion: '1.0';
  readonly id: string;
  /** The region that produced the event, e.g. `eu-west`. */
  readonly source: string;
  readonly type: T;
  /** When the change committed at its owner (RFC 3339). */
  readonly time: string;
  /** What changed, e.g. `warehouses/fra-1/stock/SKU-1`. */
  readonly subject: string;
  readonly datacontenttype: 'application/json';
  /** Extension: the request that caused the change, when there was one. */
  readonly correlationid?: string;
  readonly data: D;
}

/** The Kafka record of an event: key, JSON value and `ce_*` headers. */
export interface KafkaRecord {
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

export function newEvent<T extends string, D>(
  fields: Omit<CloudEvent<T, D>, 'specversion' | 'id' | 'datacontenttype'> & { id?: string },
): CloudEvent<T, D> {
  return { specversion: '1.0', datacontenttype: 'application/json', ...fields, id: fields.id ?? randomUUID() };
}

/** The Kafka record of an event (binary content mode). */
export function toKafkaRecord(event: CloudEvent, key: string): KafkaRecord {
  const headers: Record<string, string> = {
    ce_specversion: event.specversion,
    ce_id: event.id,
    ce_source: event.source,
    ce_type: event.type,
    ce_time: event.time,
    ce_subject: event.subject,
    'content-type': event.datacontenttype,
  };
  if (event.correlationid) headers.ce_correlationid = event.correlationid;
  return { key, value: JSON.stringify(event.data), headers };
}
