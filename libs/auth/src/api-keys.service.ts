import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import type { ApiScope } from '@stockmesh/contracts';
import { ChannelDirectory, type RequestPrincipal } from '@stockmesh/http';
import { ShardDatabases, type SqlTx } from '@stockmesh/persistence';
import { OutboxRepository } from '@stockmesh/replication';
import { apiKeyChangedEntry } from './api-key-events.js';
import { hashSecret, issueKey, parseKey, sameHash } from './api-key-secret.js';
import type { ApiKeyRecord, ApiKeyView, CreatedApiKeyView } from './api-key.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { AuthErrorCode, AuthException } from './auth.exception.js';

/**
 * How long a key read from the database is trusted without reading it again. A revocation made
 * in this region, or applied here from another, takes effect at once in this process; this only
 * bounds how long a request that raced the revocation may keep the old row.
 */
export const KEY_CACHE_MS = 1_000;

/** The principal of STOCKMESH_ADMIN_KEY. */
export const BOOTSTRAP_PRINCIPAL: RequestPrincipal = { id: 'bootstrap', name: 'STOCKMESH_ADMIN_KEY', scopes: ['admin'] };

const toView = (key: ApiKeyRecord): ApiKeyView => ({
  id: key.id,
  name: key.name,
  scopes: key.scopes,
  region: key.region,
  createdAt: key.createdAt,
  revokedAt: key.revokedAt,
  channel: key.channel,
});

/**
 * API keys: made and revoked in any region, replicated to every region through Kafka (hashes
 * only), and checked on every request. Keys live in the home database, like the catalog.
 */
@Injectable()
export class ApiKeysService {
  private readonly cache = new Map<string, { readonly key: ApiKeyRecord; readonly until: number }>();
  private readonly bootstrapHash?: string;
  private readonly logger = new Logger(ApiKeysService.name);
  private saidUnsigned = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly repository: ApiKeysRepository,
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
    private readonly channels: ChannelDirectory,
  ) {
    const admin = config.auth.adminKey;
    this.bootstrapHash = admin === undefined ? undefined : hashSecret(admin);
  }

  /**
   * Makes a key, bound to a sales channel if `channel` names one this region knows (else 422
   * `unknown-channel`); the answer is the only place its secret ever appears.
   */
  async create(name: string, scopes: readonly ApiScope[], channel: string | null, requestId: string | null): Promise<CreatedApiKeyView> {
    if (channel !== null && !(await this.channels.knowsChannel(channel))) {
      throw new AuthException(
        AuthErrorCode.UnknownChannel,
        `this region knows no channel ${channel} (one defined in another region moments ago may not have replicated yet)`,
        { channelId: channel },
      );
    }
    const issued = issueKey();
    const unique = [...new Set(scopes)];
    const record = await this.databases.inDatabase(this.databases.home(), async (tx) => {
      const created = await this.repository.insert(tx, {
        id: issued.id,
        name,
        scopes: unique,
        secretHash: issued.secretHash,
        region: this.config.region.id,
        channel,
      });
      await this.publish(tx, created, requestId);
      return created;
    });
    return { ...toView(record), key: issued.key };
  }

  /**
   * Sends a key's change to the other regions, signed with the cluster secret. A region without
   * one cannot sign, and could not talk to other regions anyway (they refuse its internal calls):
   * its keys stay its own, which it says once.
   */
  private async publish(tx: SqlTx, key: ApiKeyRecord, requestId: string | null): Promise<void> {
    const secret = this.config.regionTrust.secret;
    if (secret === undefined) {
      if (!this.saidUnsigned) this.logger.warn('no cluster secret: API keys made or revoked here stay in this region');
      this.saidUnsigned = true;
      return;
    }
    await this.outbox.append(tx, [apiKeyChangedEntry(key, this.config.region.id, requestId, secret.reveal())]);
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.databases.read(this.databases.home(), (tx) => this.repository.list(tx))).map(toView);
  }

  /** Revokes a key known here, wherever it was made; revoking a revoked key changes nothing. */
  async revoke(id: string, requestId: string | null): Promise<void> {
    await this.databases.inDatabase(this.databases.home(), async (tx) => {
      const revoked = await this.repository.revoke(tx, id);
      if (revoked) {
        await this.publish(tx, revoked, requestId);
      } else if (!(await this.repository.find(tx, id))) {
        throw new AuthException(AuthErrorCode.ApiKeyNotFound, `no API key ${id}`, { keyId: id });
      }
    });
    this.forget(id);
  }

  /**
   * The principal of a presented key, or an `unauthenticated` refusal. The secret is compared
   * by its hash in constant time; unknown ids and wrong secrets are refused alike.
   */
  async authenticate(presented: string): Promise<RequestPrincipal> {
    if (this.bootstrapHash !== undefined && sameHash(hashSecret(presented), this.bootstrapHash)) return BOOTSTRAP_PRINCIPAL;
    const parsed = parseKey(presented);
    const key = parsed && (await this.lookup(parsed.id));
    if (!parsed || !key || !sameHash(hashSecret(parsed.secret), key.secretHash)) {
      throw new AuthException(AuthErrorCode.Unauthenticated, 'the API key is not known', { reason: 'invalid-key' });
    }
    if (key.revokedAt !== null) {
      throw new AuthException(AuthErrorCode.Unauthenticated, `the API key was revoked at ${key.revokedAt}`, { reason: 'revoked-key' });
    }
    return { id: key.id, name: key.name, scopes: key.scopes, ...(key.channel === null ? {} : { channel: key.channel }) };
  }

  /** Drops a key from the cache, so its next use reads the database. */
  forget(id: string): void {
    this.cache.delete(id);
  }

  private async lookup(id: string): Promise<ApiKeyRecord | undefined> {
    const now = this.clock.now();
    const cached = this.cache.get(id);
    if (cached && cached.until > now) return cached.key;
    const key = await this.databases.read(this.databases.home(), (tx) => this.repository.find(tx, id));
    // Only known keys are cached: a key that replicates here later must work at once, and made-up
    // ids cannot fill the memory.
    if (key) this.cache.set(id, { key, until: now + KEY_CACHE_MS });
    else this.cache.delete(id);
    return key;
  }
}
