import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Where `npm start` keeps the admin key it made: in `$STOCKMESH_HOME` (the local state, where
 * kafka.sh keeps its broker too), `.stockmesh/` of the repository root by default.
 */
export function adminKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.STOCKMESH_HOME || '.stockmesh', 'admin-key');
}

/** What STOCKMESH_ADMIN_KEY accepts (see libs/config): checked here too, so a damaged file fails before any region starts. */
const ADMIN_KEY_PATTERN = /^[\x21-\x7e]{32,256}$/;

export interface AdminKey {
  readonly key: string;
  /** `made`: this call wrote the file; `kept`: it was there from an earlier start. */
  readonly source: 'made' | 'kept';
}

/**
 * The admin key of the local cluster: the one in `file`, or a new one (256 random bits) written
 * there readable by its owner only (0600). Made with `wx`, so two launchers starting at once
 * cannot overwrite each other's key; a file others may read is tightened back to 0600.
 */
export function localAdminKey(file: string = adminKeyFile()): AdminKey {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = `smk_admin_${randomBytes(32).toString('base64url')}`;
  try {
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return { key, source: 'made' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const kept = readFileSync(file, 'utf8').trim();
  if (!ADMIN_KEY_PATTERN.test(kept)) {
    throw new Error(`${file} does not hold an admin key (32-256 printable characters without spaces); delete it to have a new one made`);
  }
  return { key: kept, source: 'kept' };
}
