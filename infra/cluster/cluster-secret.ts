import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where `npm start` keeps the cluster secret it made: in `$STOCKMESH_HOME`, `.stockmesh/` by default. */
export function localClusterSecretFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.STOCKMESH_HOME || '.stockmesh', 'cluster-secret');
}

/**
 * Makes a cluster secret at `path` (256 random bits, base64url, mode 0600) unless a file is there
 * already, which is kept: the regions of one cluster must share one secret across restarts.
 * Never returns or prints the secret itself.
 */
export function ensureClusterSecret(path: string): { readonly created: boolean } {
  return ensureSecretFile(path, 32);
}

/**
 * Makes a secret of `bytes` random bytes at `path` (base64url and a newline, mode 0600) unless a
 * file is there already, which is kept: whoever was given the secret must go on using it. The
 * cluster secret and docker-compose's Kafka passwords are made this way. Never returns the secret.
 */
export function ensureSecretFile(path: string, bytes: number): { readonly created: boolean } {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    // `wx`: if two launchers race, exactly one writes and the other reads what it wrote.
    writeFileSync(path, `${randomBytes(bytes).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
    return { created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (readFileSync(path, 'utf8').trim().length === 0) throw new Error(`${path} is empty: delete it to have a new secret made`);
  // A secret others may read is no secret: tighten it, as ssh would insist.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return { created: false };
}
