import { COMMAND_ID_PATTERN, isEventTime } from '@stockmesh/contracts';
import { fieldErrors, INPUT_VALIDATION } from '@stockmesh/http';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import { COMMAND_DATA_CLASSES, isCommandType } from './command-data.js';
import { InvalidCommandError, type Command } from './command.js';

/** Who sent a command (`ce_source`), kept as the actor of the change (1-128 printable ASCII characters). */
const SOURCE_PATTERN = /^[\x20-\x7e]{1,128}$/;

/** A Kafka record as the command consumer sees it (binary content mode: `ce_*` headers, data as value). */
export interface CommandRecord {
  readonly headers: Readonly<Record<string, string>>;
  readonly value: Buffer | string | null;
}

/**
 * Parses a command record (CloudEvents 1.0, Kafka binary content mode) and validates its data
 * with the rules of the REST request of the same use case: unknown fields are refused, nothing
 * is coerced, the value may not be larger than a request body. Throws `InvalidCommandError`
 * saying what is wrong, checking in the order docs/events.md lists.
 */
export function parseCommand(record: CommandRecord, maxBytes: number): Command {
  const h = record.headers;
  if (h.ce_specversion !== '1.0') throw new InvalidCommandError(`ce_specversion is ${JSON.stringify(h.ce_specversion)}, expected "1.0"`);
  const type = h.ce_type;
  if (!type || !isCommandType(type)) throw new InvalidCommandError(`unknown command type ${JSON.stringify(type)}`);
  if (!h.ce_id || !COMMAND_ID_PATTERN.test(h.ce_id))
    throw new InvalidCommandError(`ce_id ${JSON.stringify(h.ce_id)} must be 1-255 printable ASCII characters without spaces`);
  if (!h.ce_source || !SOURCE_PATTERN.test(h.ce_source))
    throw new InvalidCommandError(`ce_source ${JSON.stringify(h.ce_source)} must be 1-128 printable ASCII characters`);
  if (h.ce_time !== undefined && !isEventTime(h.ce_time))
    throw new InvalidCommandError(`ce_time ${JSON.stringify(h.ce_time)} is not a time between 1970 and 9999`);
  if (h.ce_correlationid !== undefined && !COMMAND_ID_PATTERN.test(h.ce_correlationid))
    throw new InvalidCommandError(`ce_correlationid ${JSON.stringify(h.ce_correlationid)} must be 1-255 printable ASCII characters`);
  if (record.value === null) throw new InvalidCommandError('the record has no value');
  const size = Buffer.byteLength(record.value);
  if (size > maxBytes) throw new InvalidCommandError(`the value is ${size} bytes, more than the ${maxBytes} a request body may have`);

  const plain = parseJsonObject(record.value.toString());
  const dataClass: new () => object = COMMAND_DATA_CLASSES[type];
  let data: object;
  let errors: ValidationError[];
  try {
    data = plainToInstance(dataClass, plain, { enableImplicitConversion: false });
    errors = validateSync(data, INPUT_VALIDATION);
  } catch (error) {
    // Whatever the record holds, it must not stop the consumer on it: it is the record's fault.
    throw new InvalidCommandError(`invalid data: ${(error as Error).message}`);
  }
  if (errors.length > 0) {
    const problems = fieldErrors(errors).map((e) => `${e.field} fails ${e.constraint}: ${e.message}`);
    throw new InvalidCommandError(`invalid data: ${problems.join('; ')}`);
  }
  return {
    id: h.ce_id,
    type,
    source: h.ce_source,
    correlationId: h.ce_correlationid ?? h.ce_id,
    data,
    fingerprint: createHash('sha256')
      .update(stringify({ type, data: plain }) ?? '')
      .digest('base64url'),
  };
}

/** JSON.parse, refusing what the REST API's parser refuses: anything but an object, and prototype poisoning. */
function parseJsonObject(text: string): object {
  let plain: unknown;
  try {
    plain = JSON.parse(text, (key: string, value: unknown) => {
      if (key === '__proto__' || key === 'constructor') throw new SyntaxError(`the key ${key} is not allowed`);
      return value;
    });
  } catch (error) {
    throw new InvalidCommandError(`data is not JSON: ${(error as Error).message}`);
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) throw new InvalidCommandError('data is not a JSON object');
  return plain;
}
