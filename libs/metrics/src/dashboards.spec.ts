import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Metrics } from './metrics.js';

// The alert rules and the Grafana dashboard name metrics by string: a renamed or removed metric
// would leave an alert that never fires and a panel that stays empty, silently. This reads both
// and checks every metric they name against what a region registers. Jest runs from the
// repository root.
const root = process.cwd();
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly labels?: { readonly severity?: string };
  readonly annotations?: { readonly summary?: string; readonly runbook?: string };
}

const rules = (parse(read('infra/prometheus/alerts.yml')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const dashboardExprs = [...read('infra/grafana/dashboards/stockmesh.json').matchAll(/"expr":\s*"((?:[^"\\]|\\.)*)"/g)].map((m) =>
  JSON.parse(`"${m[1]}"`),
) as string[];

/** The series names a region exposes: each metric, and a histogram's `_bucket`, `_sum` and `_count`. */
async function exposedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metric of await new Metrics({ region: 'us-east' }).registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

const metricsIn = (expr: string): string[] => [...expr.matchAll(/\b((?:stockmesh|nodejs|process)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

describe('alert rules and the Grafana dashboard', () => {
  it('name only metrics a region exposes', async () => {
    const exposed = await exposedNames();
    const named = [...rules.map((r) => r.expr), ...dashboardExprs].flatMap(metricsIn);
    expect(named.length).toBeGreaterThan(20);
    expect([...new Set(named.filter((name) => !exposed.has(name)))]).toEqual([]);
  });

  it('give every alert a severity, a summary and a runbook that exists in docs/operations.md', () => {
    const anchors = new Set(
      read('docs/operations.md')
        .split('\n')
        .filter((line) => /^#{2,4} /.test(line))
        .map((line) => anchorOf(line.replace(/^#+ /, ''))),
    );
    expect(rules.length).toBeGreaterThan(5);
    for (const rule of rules) {
      expect([rule.alert, rule.labels?.severity]).toEqual([rule.alert, expect.stringMatching(/^(page|warning|ticket)$/)]);
      expect(rule.annotations?.summary).toBeTruthy();
      const [file, anchor] = (rule.annotations?.runbook ?? '').split('#');
      expect([rule.alert, file, anchors.has(anchor ?? '')]).toEqual([rule.alert, 'docs/operations.md', true]);
    }
  });
});
