import { Injectable, type OnModuleInit } from '@nestjs/common';
import { EVENT_TYPES, type ApiKeyChangedData, type CloudEvent } from '@stockmesh/contracts';
import type { SqlTx } from '@stockmesh/persistence';
import { EventAppliers, type EventApplier } from '@stockmesh/replication';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';

/** Applies keys made or revoked in other regions to this region's `api_keys`. */
@Injectable()
export class ApiKeyEventApplier implements EventApplier<typeof EVENT_TYPES.apiKeyChanged>, OnModuleInit {
  readonly type = EVENT_TYPES.apiKeyChanged;

  constructor(
    private readonly appliers: EventAppliers,
    private readonly repository: ApiKeysRepository,
    private readonly keys: ApiKeysService,
  ) {}

  onModuleInit(): void {
    this.appliers.register(this);
  }

  async apply(tx: SqlTx, event: CloudEvent<typeof EVENT_TYPES.apiKeyChanged, ApiKeyChangedData>): Promise<void> {
    await this.repository.applyReplica(tx, event.data);
    // Before the commit: a request in between may cache the old row again, for at most the cache's lifetime.
    this.keys.forget(event.data.id);
  }
}
