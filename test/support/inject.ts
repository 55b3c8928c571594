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
  options: { body?: unknown; rawBody?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
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
