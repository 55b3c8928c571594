import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { CloudEvent } from './cloud-event.js';
import { isEventTime } from './event-fields.js';
import { EVENT_DATA_CLASSES, EVENT_TYPES, type EventDataMap, type EventType } from './event-types.js';
import { fastStockChangedData } from './stock-changed-fast-path.js';

/** A record that is not a valid stockmesh event; it goes to the dead-letter topic with `reason`. */
export class PoisonEventError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'PoisonEventError';
  }
}

const KNOWN_TYPES = new Set<string>(Object.values(EVENT_TYPES));
const REGION = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function problems(errors: readonly ValidationError[], path = 'data'): string[] {
  return errors.flatMap((e) => {
    const at = `${path}.${e.property}`;
    return [...Object.keys(e.constraints ?? {}).map((c) => `${at} fails ${c}`), ...problems(e.children ?? [], at)];
  });
}

/**
 * Parses a Kafka record (binary content mode) into a typed event, or throws `PoisonEventError`
 * saying what is wrong. Unknown fields in `data` are tolerated (later minor versions may add
 * some); missing or ill-typed ones are not.
 */
export function parseEvent<T extends EventType>(
  record: { readonly headers: Readonly<Record<string, string>>; readonly value: Buffer | string | null },
  accepted: readonly T[],
): CloudEvent<T, EventDataMap[T]> {
  const h = record.headers;
  if (h.ce_specversion !== '1.0') throw new PoisonEventError(`ce_specversion is ${JSON.stringify(h.ce_specversion)}, expected "1.0"`);
  const type = h.ce_type;
  if (!type || !KNOWN_TYPES.has(type)) throw new PoisonEventError(`unknown event type ${JSON.stringify(type)}`);
  if (!(accepted as readonly string[]).includes(type)) throw new PoisonEventError(`event type ${type} does not belong on this topic`);
  if (!h.ce_id) throw new PoisonEventError('ce_id is missing');
  if (!h.ce_source || !REGION.test(h.ce_source)) throw new PoisonEventError(`ce_source ${JSON.stringify(h.ce_source)} is not a region id`);
  if (!isEventTime(h.ce_time)) throw new PoisonEventError(`ce_time ${JSON.stringify(h.ce_time)} is not a time between 1970 and 9999`);
  if (record.value === null) throw new PoisonEventError('the record has no value');
  let plain: unknown;
  try {
    plain = JSON.parse(record.value.toString());
  } catch (error) {
    throw new PoisonEventError(`data is not JSON: ${(error as Error).message}`);
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) throw new PoisonEventError('data is not a JSON object');
  // The replicator's hot event first takes plain checks that accept only what class-validator would.
  const fast = type === EVENT_TYPES.stockChanged ? fastStockChangedData(plain as Record<string, unknown>) : undefined;
  const data = (fast ?? plainToInstance(EVENT_DATA_CLASSES[type as T], plain)) as EventDataMap[T];
  if (!fast) {
    const errors = validateSync(data as object, { forbidUnknownValues: true });
    if (errors.length > 0) throw new PoisonEventError(`invalid data: ${problems(errors).join('; ')}`);
  }
  return {
    specversion: '1.0',
    id: h.ce_id,
    source: h.ce_source,
    type: type as T,
    time: h.ce_time,
    subject: h.ce_subject ?? '',
    datacontenttype: 'application/json',
    correlationid: h.ce_correlationid,
    data,
  };
}
