import { HEADERS } from '@stockmesh/contracts';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A request id from the client (or the forwarding region) is kept when it looks sane. */
const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

/**
 * The request's id: the `X-Request-Id` it came with, or a new UUID. Written back into the
 * request's headers so that everything reading the header later sees the same id.
 */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers[HEADERS.requestId];
  if (typeof given === 'string' && REQUEST_ID_PATTERN.test(given)) return given;
  const id = randomUUID();
  request.headers[HEADERS.requestId] = id;
  return id;
}
