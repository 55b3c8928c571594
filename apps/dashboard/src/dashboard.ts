import { Api, ApiRefusal, type ActivityView, type AvailabilityByRegionView, type ClusterView } from './api.js';
import { drawChart } from './chart.js';
import { ageOf, ratesBetween, Ring, WINDOW_MS, type CounterReading } from './series.js';

// The dashboard page: asks for a key, then polls the region's JSON API every 2 s with it. No
// figure is in the page itself; every one comes from an API call that needs stock:read.

/** Session storage, not local: the key is forgotten with the tab, and never put in a URL. */
const KEY_STORAGE = 'stockmesh.dashboard.key';
const POLL_MS = 2_000;
/** A region this far behind here is shown as lagging. */
const LAGGING_MS = 5_000;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

/** A table cell of text, with a smaller second line when given. */
function cell(text: string, small?: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.append(text);
  if (small !== undefined) {
    const line = document.createElement('span');
    line.className = 'small';
    line.textContent = small;
    td.append(line);
  }
  if (className) td.className = className;
  return td;
}

function row(...cells: HTMLTableCellElement[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.append(...cells);
  return tr;
}

const perSecond = (value: number): string => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));
const milliseconds = (value: number): string => `${Math.round(value)}`;
const ago = (iso: string | null | undefined, now: number): string => (iso ? `${ageOf(now - Date.parse(iso))} ago` : 'never');

class Dashboard {
  private api?: Api;
  /** Bumped on every sign-in and sign-out, so a poll of an earlier key stops. */
  private generation = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private sku?: string;
  private readonly lag = new Ring(WINDOW_MS);
  private readonly rates = new Ring(WINDOW_MS);
  private lastReading?: CounterReading;

  start(): void {
    element<HTMLFormElement>('key-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = element<HTMLInputElement>('key');
      const key = input.value.trim();
      input.value = '';
      if (key) this.signIn(key);
    });
    element('forget-key').addEventListener('click', () => this.signOut(''));
    element<HTMLFormElement>('sku-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const sku = element<HTMLInputElement>('sku').value.trim();
      if (!sku) return;
      this.sku = sku;
      this.lookUp(this.generation).catch((error: unknown) => this.refused(error));
    });
    const stored = sessionStorage.getItem(KEY_STORAGE);
    if (stored) this.signIn(stored);
  }

  private signIn(key: string): void {
    sessionStorage.setItem(KEY_STORAGE, key);
    this.api = new Api(key);
    this.generation += 1;
    element('key-error').hidden = true;
    element('sign-in').hidden = true;
    element('board').hidden = false;
    element('forget-key').hidden = false;
    this.setStatus('connecting…');
    void this.poll(this.generation);
  }

  /** Forgets the key and asks for one again, saying why (empty: the person asked to forget it). */
  private signOut(why: string): void {
    sessionStorage.removeItem(KEY_STORAGE);
    this.api = undefined;
    this.generation += 1;
    clearTimeout(this.timer);
    element('board').hidden = true;
    element('forget-key').hidden = true;
    element('sign-in').hidden = false;
    const error = element('key-error');
    error.textContent = why;
    error.hidden = why === '';
    this.setStatus('');
    element<HTMLInputElement>('key').focus();
  }

  private setStatus(text: string): void {
    element('status').textContent = text;
  }

  /** One round of readings, then the next one POLL_MS after it ends (never two at once). */
  private async poll(generation: number): Promise<void> {
    const api = this.api;
    if (!api) return;
    try {
      const [cluster, activity] = await Promise.all([api.cluster(), api.activity()]);
      if (generation !== this.generation) return;
      this.showCluster(cluster);
      this.showActivity(activity, cluster);
      if (this.sku) await this.lookUp(generation);
      this.setStatus(`live: updated ${new Date().toLocaleTimeString()}, every ${POLL_MS / 1000} s`);
    } catch (error) {
      if (generation !== this.generation) return;
      if (!this.refused(error)) return;
    }
    if (generation === this.generation) this.timer = setTimeout(() => void this.poll(generation), POLL_MS);
  }

  /** Shows why a call failed; false when the key was refused (then the page asks for another and stops polling). */
  private refused(error: unknown): boolean {
    if (error instanceof ApiRefusal && error.keyRefused) {
      this.signOut(error.message);
      return false;
    }
    this.setStatus(`not updated: ${(error as Error).message}`);
    return true;
  }

  private showCluster(cluster: ClusterView): void {
    const now = Date.now();
    element('served-by').textContent = `region ${cluster.region}`;
    const lagPoint: Record<string, number> = {};
    const rows = cluster.regions.map((r) => {
      const checks = r.replicaChecks;
      if (!r.self) lagPoint[r.region] = r.lagMs;
      const state = r.self ? 'serving' : r.stale ? 'stale' : r.lagMs > LAGGING_MS || r.eventsBehind > 0 ? 'lagging' : 'ok';
      const tr = row(
        cell(r.self ? `${r.region} (this)` : r.region),
        cell(state, undefined, r.self ? 'state-ok' : `state-${state}`),
        cell(r.self ? '-' : `${r.lagMs} ms`, undefined, 'num'),
        cell(r.self ? '-' : String(r.eventsBehind), undefined, 'num'),
        cell(r.self ? '-' : ago(r.lastHeartbeatAt, now)),
        cell(checks ? String(checks.digestsCompared) : '-', undefined, 'num'),
        cell(checks ? String(checks.bucketsDiffered) : '-', undefined, 'num'),
        cell(checks ? String(checks.rowsRepaired) : '-', undefined, 'num'),
        cell(checks ? ago(checks.lastCheckAt, now) : '-'),
      );
      tr.dataset.region = r.region;
      tr.dataset.state = state;
      return tr;
    });
    element<HTMLTableElement>('regions').tBodies[0].replaceChildren(...rows);
    const audit = cluster.holdAudit;
    element('cluster-notes').textContent =
      `${cluster.shardCount} shards. Lag, heartbeats and anti-entropy are as region ${cluster.region} sees the others; ` +
      (audit
        ? `hold audit ${ago(audit.at, now)}: ${audit.checked} checked, ${audit.released} released, ${audit.anomalies} anomalies, ${audit.unanswered} unanswered.`
        : 'no hold audit yet.');
    this.lag.push({ t: now, values: lagPoint });
    drawChart(element('lag-chart'), element('lag-legend'), this.lag, { windowMs: WINDOW_MS, format: milliseconds, minTop: 100 });
  }

  private showActivity(activity: ActivityView, cluster: ClusterView): void {
    const totals = activity.totals;
    const reading: CounterReading = {
      at: Date.parse(activity.at),
      since: activity.since,
      totals: {
        writes: totals.writeRequests,
        'reservations held': totals.reservations.held ?? 0,
        'events published': totals.eventsPublished,
        'events applied': totals.eventsApplied,
      },
    };
    const rates = ratesBetween(this.lastReading, reading);
    this.lastReading = reading;
    if (rates) this.rates.push({ t: reading.at, values: rates });
    drawChart(element('activity-chart'), element('activity-legend'), this.rates, { windowMs: WINDOW_MS, format: perSecond, minTop: 1 });
    const figures: [string, string][] = [
      ...Object.keys(reading.totals).map((name): [string, string] => [`${name} / s`, rates ? perSecond(rates[name]) : '…']),
      ['outbox pending', cluster.outboxPending === null ? 'unknown' : String(cluster.outboxPending)],
      ['dead letters (since start)', String(totals.deadLetters)],
      ['rows repaired (since start)', String(totals.rowsRepaired)],
      ['counting since', new Date(activity.since).toLocaleString()],
    ];
    element('activity').replaceChildren(
      ...figures.map(([name, value]) => {
        const pair = document.createElement('div');
        const dt = document.createElement('dt');
        dt.textContent = name;
        const dd = document.createElement('dd');
        dd.textContent = value;
        dd.dataset.figure = name;
        pair.append(dt, dd);
        return pair;
      }),
    );
  }

  private async lookUp(generation: number): Promise<void> {
    const api = this.api;
    const sku = this.sku;
    if (!api || !sku) return;
    const error = element('sku-error');
    try {
      const view = await api.skuInEveryRegion(sku);
      if (generation !== this.generation || sku !== this.sku) return;
      error.hidden = true;
      this.showSku(view);
    } catch (failure) {
      if (generation !== this.generation) return;
      if (failure instanceof ApiRefusal && failure.keyRefused) throw failure;
      error.textContent = `${sku}: ${(failure as Error).message}`;
      error.hidden = false;
    }
  }

  private showSku(view: AvailabilityByRegionView): void {
    const askedAt = Date.parse(view.askedAt);
    const table = element<HTMLTableElement>('sku-table');
    const head = document.createElement('tr');
    const th = (text: string, small?: string): HTMLTableCellElement => {
      const cellOf = document.createElement('th');
      cellOf.append(text);
      if (small) {
        const line = document.createElement('span');
        line.className = 'small';
        line.textContent = small;
        cellOf.append(line);
      }
      return cellOf;
    };
    head.append(
      th('warehouse', view.sku),
      th('owner'),
      ...view.regions.map((r) =>
        th(
          r.region === view.servedBy ? `${r.region} (this)` : r.region,
          r.answered ? `answered in ${r.elapsedMs} ms` : (r.problem ?? 'no answer'),
        ),
      ),
    );
    table.tHead?.replaceChildren(head);

    // Every warehouse any region knows, with its owner's own figure (the truth the others converge on).
    const owners = new Map<string, { region: string; version: number }>();
    for (const r of view.regions)
      for (const w of r.availability?.warehouses ?? [])
        if (r.region === w.region || !owners.has(w.warehouseId)) owners.set(w.warehouseId, { region: w.region, version: w.version });
    const warehouses = [...owners.keys()].sort();
    const rows = warehouses.map((warehouseId) => {
      const owner = owners.get(warehouseId);
      const tr = row(
        cell(warehouseId),
        cell(owner?.region ?? '?'),
        ...view.regions.map((r) => {
          if (!r.answered || !r.availability) return cell('no answer', undefined, 'state-down');
          const w = r.availability.warehouses.find((x) => x.warehouseId === warehouseId);
          if (!w) return cell('-', 'not here yet', 'state-lagging');
          const behind = owner !== undefined && w.version < owner.version;
          const td = cell(
            String(w.available),
            `${w.onHand} on hand / ${w.reserved} reserved / ${w.safetyStock} safety stock · changed ${ageOf(askedAt - Date.parse(w.updatedAt))} ago${behind ? ` · behind (v${w.version} < v${owner.version})` : ''}`,
            behind ? 'num state-lagging' : 'num',
          );
          Object.assign(td.dataset, {
            region: r.region,
            warehouse: warehouseId,
            available: String(w.available),
            onHand: String(w.onHand),
            reserved: String(w.reserved),
            updatedAt: w.updatedAt,
          });
          return td;
        }),
      );
      tr.dataset.warehouse = warehouseId;
      return tr;
    });
    const totals = row(
      cell('all warehouses'),
      cell(''),
      ...view.regions.map((r) => {
        if (!r.availability) return cell('-');
        const td = cell(
          String(r.availability.available),
          `${r.availability.onHand} on hand / ${r.availability.reserved} reserved / ${r.availability.safetyStock} safety stock`,
          'num',
        );
        td.dataset.region = r.region;
        td.dataset.total = String(r.availability.available);
        return td;
      }),
    );
    table.tBodies[0].replaceChildren(...rows, totals);
    table.hidden = false;
    table.dataset.sku = view.sku;
  }
}

new Dashboard().start();
