import { Inject, Injectable } from '@nestjs/common';
import { ChannelsService } from '@stockmesh/catalog';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { RegionCaller, type CallerIdentity } from '@stockmesh/http';
import { AvailabilityService } from '../availability.service.js';
import type { AvailabilityView } from '../availability.views.js';
import type { AvailabilityByRegionView, RegionAvailabilityView } from './availability-by-region.views.js';

/**
 * A SKU as every region sees it: this region's answer from its own data, and each other
 * region's `GET /v1/availability/{sku}`, asked on its internal listener for the same client
 * (its identity, never its key: the other region checks `stock:read` again). All are asked at
 * once and each is bounded by the forwarding timeout, so a region that does not answer costs at
 * most that long and shows as not answered; the others are still shown.
 */
@Injectable()
export class AvailabilityByRegionService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly local: AvailabilityService,
    private readonly regions: RegionCaller,
    private readonly channels: ChannelsService,
  ) {}

  async get(sku: string, caller: CallerIdentity): Promise<AvailabilityByRegionView> {
    const askedAt = this.clock.now();
    const regions = await Promise.all(
      this.config.cluster.regions.map((region) =>
        region.id === this.config.region.id ? this.ownView(sku, caller) : this.viewOf(region.id, sku, caller),
      ),
    );
    return { sku, servedBy: this.config.region.id, askedAt: new Date(askedAt).toISOString(), regions };
  }

  /** This region's view for the caller: its channel's, if its key is bound to one (as every other region answers it). */
  private async ownView(sku: string, caller: CallerIdentity): Promise<RegionAvailabilityView> {
    const started = performance.now();
    const availability = await this.local.get(sku, await this.channels.forRequest(undefined, caller));
    return { region: this.config.region.id, answered: true, availability, problem: null, elapsedMs: elapsedSince(started) };
  }

  private async viewOf(region: string, sku: string, caller: CallerIdentity): Promise<RegionAvailabilityView> {
    const started = performance.now();
    const answer = await this.regions.read(
      region,
      `/v1/availability/${encodeURIComponent(sku)}`,
      caller,
      this.config.http.forwardTimeoutMs,
    );
    const elapsedMs = elapsedSince(started);
    if (answer.kind === 'unavailable') return { region, answered: false, availability: null, problem: answer.reason, elapsedMs };
    if (answer.status !== 200 || !isAvailabilityOf(answer.body, sku)) {
      const code = (answer.body as { code?: unknown } | null)?.code;
      const problem = `region ${region} answered ${answer.status}${typeof code === 'string' ? ` ${code}` : ' without the SKU’s availability'}`;
      return { region, answered: false, availability: null, problem, elapsedMs };
    }
    return { region, answered: true, availability: answer.body, problem: null, elapsedMs };
  }
}

function elapsedSince(started: number): number {
  return Math.round(performance.now() - started);
}

/** Enough of the shape to show it: another region of the cluster runs the same code, so it is not validated field by field. */
function isAvailabilityOf(body: unknown, sku: string): body is AvailabilityView {
  const view = body as Partial<AvailabilityView> | null;
  return typeof view === 'object' && view !== null && view.sku === sku && Array.isArray(view.warehouses) && Array.isArray(view.freshness);
}
