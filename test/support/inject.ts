import { randomBytes } from 'node:crypto';

/**
 * The bootstrap admin key (STOCKMESH_ADMIN_KEY) of every region the test support starts, and
 * the key `call` sends unless told otherwise. Random per test process: nothing outside it knows it.
 */
export const TEST_ADMIN_KEY = `test-admin-${randomBytes(24).toString('base64url')}`;

export interface Answer<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: T;
}

/** Anything with a base URL: a test region or a region of the local cluster. */
export interface Reachable {
  readonly url: string;
}

/**
 * Sends one HTTP request over the loopback (JSON bodies serialized, answers parsed). Real HTTP
 * rather than Fastify's inject: the tests see exactly what a storefront sees.
 */
export async function call<T = Record<string, unknown>>(
  target: Reachable,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  path: string,
  options: {
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
    timeoutMs?: number;
    /** The API key to send as `Authorization: Bearer`; default `TEST_ADMIN_KEY`, `null` for none. An `authorization` header wins. */
    key?: string | null;
    /**
     * Send the request again (up to 5 times in all) while it is answered 503, as a client does
     * when a loaded region sheds work; a write must carry an `Idempotency-Key` to be safe to repeat.
     */
    retryBusy?: boolean;
  } = {},
): Promise<Answer<T>> {
  if (options.retryBusy) {
    for (let attempt = 1; ; attempt++) {
      const answer = await call<T>(target, method, path, { ...options, retryBusy: false });
      if (answer.status !== 503 || attempt === 5) return answer;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
  const key = options.key === undefined ? TEST_ADMIN_KEY : options.key;
  const headers: Record<string, string> = { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...(options.headers ?? {}) };
  let payload: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${target.url}${path}`, {
    method,
    headers,
    body: payload,
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), body: body as T };
}
