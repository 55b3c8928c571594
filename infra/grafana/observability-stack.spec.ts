import { describe, expect, it } from '@jest/globals';
import { Metrics } from '@stockmesh/metrics';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { parse } from 'yaml';

// No Docker engine runs the compose file here: these checks hold its Prometheus and Grafana
// wiring, and the dashboard's queries, to the files and metrics they name.
const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const yamlOf = <T>(path: string): T => parse(read(path)) as T;

interface Service {
  readonly image?: string;
  readonly command?: readonly string[] | string;
  readonly environment?: Readonly<Record<string, string | number>>;
  readonly volumes?: readonly string[];
  readonly depends_on?: readonly string[] | Readonly<Record<string, unknown>>;
}
const compose = yamlOf<{ services: Readonly<Record<string, Service>>; volumes: Readonly<Record<string, unknown>> }>('docker-compose.yml');
const services = compose.services;
/** The long-running region services: they name a region and run the image's default command. */
const regions = Object.entries(services).filter(([, s]) => s.environment?.STOCKMESH_REGION !== undefined && s.command === undefined);

/** Where a bind mount of `source` (relative to the compose file) lands in the service's container. */
function mountOf(service: Service, source: string): string | undefined {
  const mount = (service.volumes ?? []).map((v) => v.split(':')).find(([from]) => posix.normalize(from) === posix.normalize(source));
  return mount?.[1];
}

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly uid: string };
  readonly targets?: readonly { readonly expr: string; readonly datasource?: { readonly uid: string } }[];
}
const dashboard = JSON.parse(read('infra/grafana/dashboards/stockmesh.json')) as { uid: string; panels: readonly Panel[] };

describe('the Prometheus of docker-compose.yml', () => {
  const prometheus = services.prometheus;
  const config = yamlOf<{ scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[] }>(
    'infra/prometheus/prometheus.yml',
  );
  const targets = config.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));

  it('reads infra/prometheus/prometheus.yml where its --config.file says', () => {
    const flag = [prometheus.command ?? []].flat().find((a) => a.startsWith('--config.file='));
    expect(flag).toBeDefined();
    expect(mountOf(prometheus, './infra/prometheus/prometheus.yml')).toBe(flag?.slice('--config.file='.length));
  });

  it('scrapes every instance of every region service once, at its metrics port, and nothing else', () => {
    expect(regions.map(([name]) => name).sort()).toEqual(['ap-south', 'eu-west', 'us-east']);
    for (const target of targets) {
      const host = target.split(':')[0];
      expect({ target, region: services[host]?.environment?.STOCKMESH_REGION }).toEqual({ target, region: host });
    }
    // Instance i of STOCKMESH_INSTANCES serves its metrics on STOCKMESH_METRICS_PORT + i - 1.
    const expected = regions.flatMap(([name, service]) => {
      const base = Number(service.environment?.STOCKMESH_METRICS_PORT);
      const instances = Number(service.environment?.STOCKMESH_INSTANCES ?? 1);
      return Array.from({ length: instances }, (_, i) => `${name}:${base + i}`);
    });
    expect([...targets].sort()).toEqual(expected.sort());
    expect(config.scrape_configs.every((job) => job.metrics_path === '/metrics')).toBe(true);
  });
});

describe('the Grafana of docker-compose.yml', () => {
  const grafana = services.grafana;
  const datasources = yamlOf<{ datasources: { uid: string; type: string; url: string }[] }>(
    'infra/grafana/provisioning/datasources/prometheus.yml',
  ).datasources;
  const providers = yamlOf<{ providers: { options: { path: string } }[] }>('infra/grafana/provisioning/dashboards/stockmesh.yml').providers;

  it('gets its provisioning files, and the dashboards where the provider looks for them', () => {
    expect(mountOf(grafana, './infra/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    expect(providers.map((p) => p.options.path)).toEqual([mountOf(grafana, './infra/grafana/dashboards')]);
    expect(grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${providers[0].options.path}/stockmesh.json`);
  });

  it('asks the compose Prometheus, under the uid every panel names', () => {
    expect(datasources).toHaveLength(1);
    const [source] = datasources;
    expect(source.type).toBe('prometheus');
    expect(new URL(source.url).hostname).toBe('prometheus');
    expect(Object.keys(services)).toContain('prometheus');
    const uids = dashboard.panels.flatMap((p) => [p.datasource?.uid, ...(p.targets ?? []).map((t) => t.datasource?.uid)]).filter(Boolean);
    expect(new Set(uids)).toEqual(new Set([source.uid]));
  });
});

describe('the stockmesh dashboard', () => {
  const metrics = new Metrics();
  /** Every series name a region exposes: each metric, and a histogram's _bucket, _sum and _count. */
  const exposed = new Map<string, readonly string[]>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    const labels = [...((m as unknown as { labelNames?: string[] }).labelNames ?? []), 'region'];
    for (const suffix of ['', '_bucket', '_sum', '_count']) exposed.set(m.name + suffix, suffix === '_bucket' ? [...labels, 'le'] : labels);
  }
  const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  it('queries only metrics a region exposes, with labels they have', () => {
    expect(queries.length).toBeGreaterThan(15);
    for (const { panel, expr } of queries) {
      for (const [, name, selector = ''] of expr.matchAll(/\b((?:stockmesh|process)_[a-z0-9_]+)(?:\{([^}]*)\})?/g)) {
        expect({ panel, name, exposed: exposed.has(name) }).toEqual({ panel, name, exposed: true });
        for (const [, label] of selector.matchAll(/([a-z_]+)\s*[=!]~?/g))
          expect({ panel, name, label, known: exposed.get(name)?.includes(label) }).toEqual({ panel, name, label, known: true });
      }
    }
  });

  it('covers what operators watch', () => {
    const all = queries.map((q) => q.expr).join('\n');
    for (const name of [
      'stockmesh_http_requests_total',
      'stockmesh_http_request_duration_seconds_bucket',
      'stockmesh_reservations_total',
      'stockmesh_replication_lag_seconds',
      'stockmesh_replication_lag_events',
      'stockmesh_outbox_pending_events',
      'stockmesh_dead_letters_total',
      'stockmesh_anti_entropy_rows_repaired_total',
      'stockmesh_db_pool_waiting_requests',
      'process_resident_memory_bytes',
    ])
      expect(all).toContain(name);
  });
});
