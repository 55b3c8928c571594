import { signRequest, type CallerIdentity } from '@stockmesh/http';
import { randomUUID } from 'node:crypto';
import { call, type Answer } from './inject.js';

/** The cluster secret of every test region and test cluster (tests only, of course). */
export const TEST_CLUSTER_SECRET = 'stockmesh-test-cluster-secret-not-for-production';

/** Who a request made with `TEST_ADMIN_KEY` (the bootstrap key of test regions) is. */
export const TEST_ADMIN_CALLER: CallerIdentity = { keyId: 'bootstrap', name: 'STOCKMESH_ADMIN_KEY', scopes: ['admin'] };

/** A region's internal listener, and who it is. */
export interface InternalTarget {
  readonly internalUrl: string;
  readonly regionId: string;
}

export interface SignedCallOptions {
  readonly body?: unknown;
  /** The calling region (default `eu-west`, a region of every default test cluster). */
  readonly from?: string;
  /** The signing time (default now): a test of the replay window moves it. */
  readonly at?: number;
  readonly secret?: string;
  readonly forwarded?: boolean;
  /**
   * The client the call acts for (`Stockmesh-Caller`). Default: the test admin key's identity, as
   * a region forwarding a request made with `TEST_ADMIN_KEY` sends it; `null` for none.
   */
  readonly caller?: CallerIdentity | null;
  readonly idempotencyKey?: string;
  /** Changes the headers after signing, e.g. to forge them. */
  readonly tamper?: (headers: Record<string, string>) => void;
}

/** The headers a region would sign a call with. */
export function signedHeaders(
  target: InternalTarget,
  method: string,
  path: string,
  body: string | undefined,
  o: SignedCallOptions = {},
): Record<string, string> {
  const from = o.from ?? 'eu-west';
  const headers = signRequest(method, path, body, {
    secret: Buffer.from(o.secret ?? TEST_CLUSTER_SECRET),
    from,
    to: target.regionId,
    now: o.at ?? Date.now(),
    requestId: randomUUID(),
    idempotencyKey: o.idempotencyKey,
    forwardedFrom: o.forwarded ? from : undefined,
    caller: o.caller === undefined ? TEST_ADMIN_CALLER : (o.caller ?? undefined),
  });
  if (body !== undefined) headers['content-type'] = 'application/json';
  o.tamper?.(headers);
  return headers;
}

/** Calls a region's internal listener as another region of the cluster would, signed. */
export function signedCall<T = Record<string, unknown>>(
  target: InternalTarget,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  path: string,
  o: SignedCallOptions = {},
): Promise<Answer<T>> {
  const body = o.body === undefined ? undefined : JSON.stringify(o.body);
  // No API key: a region's call carries the signed caller instead.
  return call<T>({ url: target.internalUrl }, method, path, {
    rawBody: body,
    headers: signedHeaders(target, method, path, body, o),
    key: null,
  });
}
