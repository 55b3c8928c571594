import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { coordinatorOf } from '@stockmesh/contracts';
import { ShardDatabases } from '@stockmesh/persistence';
import { ReservationRepository } from '../reservation.repository.js';
import { holdVerdict, type HoldVerdict } from './hold-verdict.js';

/** The coordinator's side of the hold audit: what its reservations say of holds an owner still holds. */
@Injectable()
export class HoldVerdicts {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly repository: ReservationRepository,
  ) {}

  /** A verdict for each hold id (`<reservationId>.<allocationNo>`), in one read of the home database. */
  async judge(holdIds: readonly string[]): Promise<Record<string, HoldVerdict>> {
    const mine = new Set(holdIds.filter((id) => coordinatorOf(id) === this.config.region.id));
    const keys = [...mine].map((id) => {
      const dot = id.lastIndexOf('.');
      return { reservationId: id.slice(0, dot), allocationNo: Number(id.slice(dot + 1)) };
    });
    const found =
      keys.length === 0
        ? new Map<string, never>()
        : await this.databases.read(this.databases.home(), (tx) => this.repository.allocationStates(tx, keys));
    const verdicts: Record<string, HoldVerdict> = {};
    for (const id of holdIds) {
      const known = found.get(id);
      verdicts[id] = mine.has(id) ? holdVerdict(known?.status, known?.state) : 'not-mine';
    }
    return verdicts;
  }
}
