import createClient, { type Client } from 'openapi-fetch';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { paths } from './stockmesh-api.generated.js';

/** A typed client of one region's public API (the OpenAPI document's types, checked in CI). */
export type StockmeshApi = Client<paths>;

/** A failure the CLI reports as one line on stderr, with its exit code (2: usage or local problem; 1: the region refused). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Where `npm start` keeps the local cluster's admin key (infra/cluster/admin-key.ts). */
/** The admin key `npm start` keeps, in `$STOCKMESH_HOME` (`.stockmesh/` of the checkout by default). */
const localAdminKeyFile = (): string => join(process.env.STOCKMESH_HOME || '.stockmesh', 'admin-key');

/**
 * The key to send: `--key-file`, else STOCKMESH_API_KEY, else the local cluster's admin key when
 * run from a checkout that `npm start` started. Never an argument of its own: a key on the
 * command line is visible to every user of the machine (ps) and lands in shell history.
 */
export function apiKeyOf(keyFile: string | undefined): string {
  if (keyFile !== undefined) {
    try {
      return readFileSync(keyFile, 'utf8').trim();
    } catch (error) {
      throw new CliError(`cannot read the key file ${keyFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
    }
  }
  const fromEnv = process.env.STOCKMESH_API_KEY?.trim();
  if (fromEnv) return fromEnv;
  const local = localAdminKeyFile();
  if (existsSync(local)) return readFileSync(local, 'utf8').trim();
  throw new CliError('no API key: set STOCKMESH_API_KEY, pass --key-file <file>, or run from the checkout `npm start` runs in', 2);
}

export function apiClient(url: string, key: string, timeoutMs = 15_000): StockmeshApi {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new CliError(`--url ${url} is not a URL`, 2);
  }
  return createClient<paths>({
    baseUrl: base.origin,
    headers: { authorization: `Bearer ${key}` },
    fetch: (request: Request) => fetch(request, { signal: AbortSignal.timeout(timeoutMs) }),
  });
}

/** The innermost cause of a failed fetch (`ECONNREFUSED`, a timeout), which says more than "fetch failed". */
function innermost(error: unknown): string {
  let current = error as { cause?: unknown; code?: string; message?: string; name?: string };
  while (current.cause !== undefined && current.cause !== null) current = current.cause as typeof current;
  return current.code ?? (current.name === 'TimeoutError' ? 'timed out' : (current.message ?? String(current)));
}

interface Problem {
  readonly code?: string;
  readonly title?: string;
  readonly detail?: string;
  readonly status?: number;
}

/**
 * The body of a successful answer, or a CliError saying what the region answered (its problem's
 * code and detail) or why it could not be reached.
 */
export async function answer<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<{ data: T; status: number }> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (error) {
    throw new CliError(`the region did not answer: ${innermost(error)}`);
  }
  const { data, error, response } = result;
  if (response.ok) return { data: data as T, status: response.status };
  const problem = (error ?? {}) as Problem;
  const what = problem.code ?? problem.title ?? response.statusText;
  throw new CliError(`${response.status} ${what}${problem.detail ? `: ${problem.detail}` : ''}`);
}

/**
 * Sends a write under `given` or a new Idempotency-Key and resolves its answer with the key used,
 * which the caller prints so that the write can be repeated safely.
 */
export async function keyedWrite<T>(
  given: string | undefined,
  send: (key: string) => Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<{ data: T; status: number; key: string }> {
  const key = given ?? randomUUID();
  return { ...(await answer(send(key))), key };
}
