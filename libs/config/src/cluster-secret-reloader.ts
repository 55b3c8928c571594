import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from './app-config.js';
import { clusterSecretsIn } from './cluster-secret.js';

/** How often the cluster-secret file's status is looked at. */
export const CLUSTER_SECRET_POLL_MS = 2_000;

/**
 * Re-reads STOCKMESH_CLUSTER_SECRET_FILE when it changes and gives its keys to the region's
 * ClusterSecret, so a rotation needs no restart (docs/security.md). A file that cannot be read or
 * holds no valid secret (half-written, say) changes nothing: the region keeps its keys and says
 * so. Logs name keys by fingerprint only.
 *
 * It polls the file's status (`fs.watchFile`) rather than subscribing to change events: a mounted
 * Kubernetes or Docker secret is replaced by swapping a symbolic link, which event watchers miss.
 */
@Injectable()
export class ClusterSecretReloader implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ClusterSecretReloader.name);
  private reading: Promise<void> = Promise.resolve();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private readonly changed = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino) return;
    this.reading = this.reading.then(() => this.reload());
  };

  onModuleInit(): void {
    const { secret, secretFile } = this.config.regionTrust;
    if (secret === undefined || secretFile === undefined) return;
    this.logger.log(`cluster secret from ${secretFile}: signing with ${this.describe()}; re-read when it changes`);
    watchFile(secretFile, { interval: CLUSTER_SECRET_POLL_MS, persistent: false }, this.changed);
  }

  onModuleDestroy(): void {
    const { secretFile } = this.config.regionTrust;
    if (secretFile !== undefined) unwatchFile(secretFile, this.changed);
  }

  /** Reads the file now and takes its keys if they are valid (what a change of the file does). */
  async reload(): Promise<void> {
    const { secret, secretFile } = this.config.regionTrust;
    if (secret === undefined || secretFile === undefined) return;
    let text: string;
    try {
      text = await readFile(secretFile, 'utf8');
    } catch (error) {
      this.logger.error(`cannot read the cluster secret file ${secretFile} (${(error as Error).message}); keeping ${this.describe()}`);
      return;
    }
    const secrets = clusterSecretsIn(text);
    if (!Array.isArray(secrets)) {
      this.logger.error(`the cluster secret file ${secretFile} ${secrets.problem}; keeping ${this.describe()}`);
      return;
    }
    const before = this.describe();
    secret.replace(secrets);
    const after = this.describe();
    if (after !== before) this.logger.log(`cluster secret file ${secretFile} changed: signing with ${after} (was ${before})`);
  }

  private describe(): string {
    const [signing, ...others] = this.config.regionTrust.secret?.fingerprints() ?? [];
    return others.length === 0 ? `key ${signing}` : `key ${signing}, also accepting ${others.join(', ')}`;
  }
}
