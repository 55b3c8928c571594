import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { TOPICS, type RegionHeartbeatData } from '@stockmesh/contracts';
import { ShardDatabases } from '@stockmesh/persistence';
import { ConsumerPositionsRepository } from './consumer-positions.repository.js';

/** How fresh this region's copy of another region's data is. */
export interface RegionFreshness {
  readonly region: string;
  /** When its last heartbeat arrived here; `null` if none has. */
  readonly lastHeartbeatAt: string | null;
  /** No heartbeat within the stale interval: its numbers here may be old. */
  readonly stale: boolean;
  /** Its events published (as of its last heartbeat) but not applied here yet. */
  readonly eventsBehind: number;
  /**
   * How far behind in time: 0 when everything it had published at its last heartbeat is applied
   * here, else the age of the oldest heartbeat whose events are not all applied yet.
   */
  readonly lagMs: number;
}

interface HeartbeatSeen {
  readonly sentAt: number;
  readonly offsets: ReadonlyMap<number, bigint>;
}

interface RegionTrack {
  lastReceivedAt: number;
  /** Highest offset per partition announced by any instance of the region. */
  readonly announced: Map<number, bigint>;
  /** Heartbeats whose offsets are not all applied here yet, oldest first. */
  readonly pending: HeartbeatSeen[];
}

const MAX_PENDING = 3_600;
/** How often the applied positions are read while another region announced offsets not applied here. */
const REFRESH_MS = 250;
/** ... and when every announced offset is applied: nothing the lag depends on can change until a heartbeat announces more. */
const IDLE_REFRESH_MS = 5_000;

/**
 * Replication lag per remote region, from their heartbeats and the positions this region has
 * applied (read from its databases, so every instance of the region sees the same).
 */
@Injectable()
export class ReplicationStatus implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly regions = new Map<string, RegionTrack>();
  private applied = new Map<number, bigint>();
  private timer?: NodeJS.Timeout;
  private refreshing = false;
  /** The refresh waits `IDLE_REFRESH_MS`: every offset announced was applied when last read. */
  private idle = false;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly positions: ConsumerPositionsRepository,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.replication.enabled) return;
    this.refresh();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Reads the applied positions, then again after `REFRESH_MS`, or `IDLE_REFRESH_MS` when nothing announced is missing. */
  private refresh(): void {
    this.refreshing = true;
    this.refreshApplied()
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = false;
        if (this.stopped) return;
        this.idle = !this.missingAnnounced();
        this.timer = setTimeout(() => this.refresh(), this.idle ? IDLE_REFRESH_MS : REFRESH_MS).unref();
      });
  }

  /** Whether some region announced an offset this region has not applied (as last read). */
  private missingAnnounced(): boolean {
    for (const track of this.regions.values()) {
      for (const [partition, offset] of track.announced) if (offset + 1n > (this.applied.get(partition) ?? 0n)) return true;
    }
    return false;
  }

  /** Records a heartbeat of another region. */
  heartbeat(data: RegionHeartbeatData, sentAt: number): void {
    if (data.region === this.config.region.id) return;
    const track = this.regions.get(data.region) ?? { lastReceivedAt: 0, announced: new Map<number, bigint>(), pending: [] };
    track.lastReceivedAt = this.clock.now();
    const offsets = new Map(data.stockOffsets.map((p) => [p.partition, BigInt(p.offset)]));
    for (const [partition, offset] of offsets) if ((track.announced.get(partition) ?? -1n) < offset) track.announced.set(partition, offset);
    track.pending.push({ sentAt, offsets });
    if (track.pending.length > MAX_PENDING) track.pending.shift();
    this.regions.set(data.region, track);
    // Waiting slowly while the heartbeat announces something new: read the positions now.
    if (this.idle && !this.refreshing && !this.stopped && this.timer !== undefined && this.missingAnnounced()) {
      clearTimeout(this.timer);
      this.refresh();
    }
  }

  /** Replaces the applied positions (used by tests; the timer reads them from the databases). */
  setApplied(applied: ReadonlyMap<number, bigint>): void {
    this.applied = new Map(applied);
  }

  freshness(regionId: string): RegionFreshness {
    const now = this.clock.now();
    const track = this.regions.get(regionId);
    if (!track) return { region: regionId, lastHeartbeatAt: null, stale: true, eventsBehind: 0, lagMs: 0 };
    const covered = (hb: HeartbeatSeen): boolean => [...hb.offsets].every(([p, offset]) => (this.applied.get(p) ?? 0n) > offset);
    while (track.pending.length > 0 && covered(track.pending[0])) track.pending.shift();
    let behind = 0n;
    for (const [partition, offset] of track.announced) {
      const gap = offset + 1n - (this.applied.get(partition) ?? 0n);
      if (gap > 0n) behind += gap;
    }
    return {
      region: regionId,
      lastHeartbeatAt: new Date(track.lastReceivedAt).toISOString(),
      stale: now - track.lastReceivedAt > this.config.replication.staleAfterMs,
      eventsBehind: Number(behind),
      lagMs: track.pending.length > 0 ? Math.max(0, now - track.pending[0].sentAt) : 0,
    };
  }

  /** Every other region's freshness. */
  all(): RegionFreshness[] {
    return this.config.cluster.regions.filter((r) => r.id !== this.config.region.id).map((r) => this.freshness(r.id));
  }

  private async refreshApplied(): Promise<void> {
    const merged = new Map<number, bigint>();
    for (const db of this.databases.all()) {
      const stored = await this.databases.read(db, (tx) => this.positions.all(tx, TOPICS.stock));
      // A shard's position is the one stored where the shard lives now (a move copies it first).
      const hosted = new Set(this.databases.shardsOf(db));
      for (const [partition, next] of stored) if (hosted.has(partition)) merged.set(partition, next);
    }
    this.applied = merged;
  }
}
