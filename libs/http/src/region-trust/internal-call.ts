import type { FastifyRequest } from 'fastify';
import type { CallerIdentity } from './region-signature.js';

/** A request that arrived on the internal listener with a valid region signature. */
export interface InternalCall {
  /** The region that signed it. */
  readonly region: string;
  /** The region that forwarded a client's request, when it is one (it is never forwarded again). */
  readonly forwardedFrom?: string;
  /** The client the region acts for, if it named one. */
  readonly caller?: CallerIdentity;
}

/** Keyed by the raw request: nothing a client sends can put an entry here. */
const internalCalls = new WeakMap<object, InternalCall>();
const callers = new WeakMap<object, CallerIdentity>();

/** Marks `request` as an authenticated internal call; only the internal listener does this. */
export function markInternalCall(request: FastifyRequest, call: InternalCall): void {
  internalCalls.set(request.raw, call);
  if (call.caller) callers.set(request.raw, call.caller);
}

/** The authenticated region call `request` is, or `undefined` for anything else (every public request). */
export function internalCallOf(request: FastifyRequest): InternalCall | undefined {
  return internalCalls.get(request.raw);
}

/**
 * Records who a public request is (for the API-key guard, once it has checked the key). A signed
 * internal call's caller is recorded by the listener and cannot be replaced.
 */
export function attachCaller(request: FastifyRequest, identity: CallerIdentity): void {
  if (internalCalls.has(request.raw)) return;
  callers.set(request.raw, identity);
}

/** The client `request` acts for: the key a public request was authenticated with, or a signed call's caller. */
export function callerOf(request: FastifyRequest): CallerIdentity | undefined {
  return callers.get(request.raw);
}
