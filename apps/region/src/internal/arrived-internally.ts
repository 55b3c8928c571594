import type { IncomingMessage } from 'node:http';

/** Requests accepted by the internal server; a client cannot put its request here. */
const ARRIVED_INTERNALLY = new WeakSet<IncomingMessage>();

/** Marks a request as taken by the internal listener's socket (call before routing it). */
export function markArrivedInternally(request: IncomingMessage): void {
  ARRIVED_INTERNALLY.add(request);
}

/** Whether the request came in through the internal (region-to-region) listener. */
export function arrivedInternally(request: IncomingMessage): boolean {
  return ARRIVED_INTERNALLY.has(request);
}
