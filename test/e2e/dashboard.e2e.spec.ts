import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call, registerWarehouses, startTestCluster, waitFor, type TestCluster } from '@stockmesh/testing';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

// The dashboard page in a real browser (Debian's headless Chromium driven by playwright-core)
// against three region processes: the page asks for a key, shows every region, draws the lag
// chart, and shows a SKU as every region sees it, with the same figures as the API. A screenshot
// is left in test-artifacts/dashboard.png. No Chromium is a failure, never a skip: .ci/run
// installs it.
const CHROMIUM = process.env.STOCKMESH_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const SKU = 'SKU-DASH';
const STOCK: Readonly<Record<string, number>> = { 'dash-nyc': 12, 'dash-fra': 30 };

let t: TestCluster;
let browser: Browser;
let readKey: string;

interface ByRegion {
  servedBy: string;
  regions: {
    region: string;
    answered: boolean;
    availability: { available: number; warehouses: { warehouseId: string; onHand: number; reserved: number; available: number }[] } | null;
  }[];
}

const byRegion = async (): Promise<ByRegion> =>
  (await call<ByRegion>({ url: t.url('us-east') }, 'GET', `/v1/availability/${SKU}/regions`, { key: readKey })).body;

/** The named attributes of every element `list` matches, in page order (the test has no DOM types: the page is in the browser). */
async function attributes(list: Locator, names: readonly string[]): Promise<Record<string, string | null>[]> {
  const found: Record<string, string | null>[] = [];
  for (const item of await list.all()) {
    const entry: Record<string, string | null> = {};
    for (const name of names) entry[name] = await item.getAttribute(name);
    found.push(entry);
  }
  return found;
}

/** A page of the dashboard at us-east that records what the browser complains about (a CSP violation, a script error). */
async function openDashboard(complaints: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
  page.on('console', (message) => {
    if (message.type() === 'error') complaints.push(message.text());
  });
  page.on('pageerror', (error) => complaints.push(error.message));
  page.on('response', (response) => {
    if (response.status() >= 400) complaints.push(`${response.status()} ${new URL(response.url()).pathname}`);
  });
  await page.goto(`${t.url('us-east')}/dashboard`);
  return page;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: the dashboard's browser test needs it (apt-get install -y chromium; .ci/run installs it), or set STOCKMESH_CHROMIUM`,
    );
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  t = await startTestCluster('dashboard');
  await registerWarehouses(t, { 'dash-nyc': 'us-east', 'dash-fra': 'eu-west' });
  const made = await call<{ key: string }>({ url: t.url('us-east') }, 'POST', '/v1/api-keys', {
    body: { name: 'dashboard-e2e', scopes: ['stock:read'] },
  });
  expect(made.status).toBe(201);
  readKey = made.body.key;
  for (const [warehouse, onHand] of Object.entries(STOCK)) {
    const set = await call({ url: t.url('us-east') }, 'PUT', `/v1/warehouses/${warehouse}/stock/${SKU}`, { body: { onHand } });
    expect(set.status).toBe(200);
  }
  // Every region has applied both rows: from then on the figures hold still while the page shows them.
  await waitFor(
    async () => {
      const view = await byRegion();
      const settled = view.regions.every(
        (r) =>
          r.answered &&
          Object.entries(STOCK).every(([w, n]) => r.availability?.warehouses.some((x) => x.warehouseId === w && x.onHand === n)),
      );
      return settled ? true : undefined;
    },
    { what: `every region to show ${SKU} in both warehouses`, describe: async () => JSON.stringify(await byRegion()) },
  );
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
}, 60_000);

describe('the dashboard page', () => {
  it('is served without a key, holds no figure, and forbids inline and foreign scripts', async () => {
    const moved = await fetch(`${t.url('us-east')}/dashboard`, { redirect: 'manual' });
    expect([moved.status, moved.headers.get('location')]).toEqual([308, '/dashboard/']);
    const page = await fetch(`${t.url('us-east')}/dashboard/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await page.text();
    expect(html).not.toContain(SKU);
    expect(html).not.toMatch(/<script>|<script(?![^>]*\ssrc=)[^>]*>/);
    const missing = await fetch(`${t.url('us-east')}/dashboard/nothing.js`);
    expect([missing.status, missing.headers.get('content-type')]).toEqual([404, 'application/problem+json; charset=utf-8']);
  });

  it('says clearly when the key is refused, and asks again', async () => {
    const complaints: string[] = [];
    const page = await openDashboard(complaints);
    await page.fill('#key', 'smk_0123456789abcdef_notAKeyAnyRegionMadeXXXXXXXXXXXXXXXXXXXXXX');
    await page.click('#key-form button');
    const error = page.locator('#key-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toMatch(/^The key was refused \(invalid-key\)/);
    expect(await page.locator('#sign-in').isVisible()).toBe(true);
    expect(await page.locator('#board').isVisible()).toBe(false);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    // A valid key without stock:read: the board never shows, and the page names the scope.
    const shop = await call<{ key: string }>({ url: t.url('us-east') }, 'POST', '/v1/api-keys', {
      body: { name: 'dashboard-e2e-shop', scopes: ['reservations:write'] },
    });
    expect(shop.status).toBe(201);
    await page.fill('#key', shop.body.key);
    await page.click('#key-form button');
    await page.getByText(/needs the stock:read scope/).waitFor();
    expect(await error.textContent()).toBe("This key may not read the dashboard's figures: it needs the stock:read scope.");
    expect(await page.locator('#board').isVisible()).toBe(false);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    // The refusals themselves, and nothing else (no missing file, no CSP violation).
    const refusal = /^40[13] \/v1\/cluster|status of 40[13]/;
    expect(complaints.filter((c) => !refusal.test(c))).toEqual([]);
    await page.close();
  });

  it('shows every region, draws the lag chart, and shows a SKU in every region with the API’s figures', async () => {
    const started = Date.now();
    const complaints: string[] = [];
    const page = await openDashboard(complaints);
    await page.fill('#key', readKey);
    await page.click('#key-form button');
    // Waits go through locators, never a string predicate: the page's CSP forbids eval, which those use.
    await page.locator('#regions tbody tr').nth(2).waitFor();
    expect(await page.locator('#served-by').textContent()).toBe('region us-east');
    expect(await attributes(page.locator('#regions tbody tr'), ['data-region'])).toEqual([
      { 'data-region': 'us-east' },
      { 'data-region': 'eu-west' },
      { 'data-region': 'ap-south' },
    ]);

    await page.fill('#sku', SKU);
    await page.click('#sku-form button');
    await page.locator('#sku-table td[data-warehouse]').nth(5).waitFor();
    expect(await page.locator('#sku-table td[data-warehouse]').count()).toBe(6);
    expect(await page.locator('#regions tbody tr').count()).toBe(3);
    const shown = (
      await attributes(page.locator('#sku-table td[data-warehouse]'), [
        'data-region',
        'data-warehouse',
        'data-available',
        'data-on-hand',
        'data-reserved',
      ])
    ).map((a) => ({
      region: a['data-region'],
      warehouseId: a['data-warehouse'],
      available: Number(a['data-available']),
      onHand: Number(a['data-on-hand']),
      reserved: Number(a['data-reserved']),
    }));
    const api = await byRegion();
    const expected = api.regions.flatMap((r) =>
      (r.availability?.warehouses ?? []).map((w) => ({
        region: r.region,
        warehouseId: w.warehouseId,
        available: w.available,
        onHand: w.onHand,
        reserved: w.reserved,
      })),
    );
    // The same cells, region by region and warehouse by warehouse, with the same figures.
    const byCell = (a: { region: string | null; warehouseId: string | null }, b: typeof a): number =>
      `${a.region}/${a.warehouseId}`.localeCompare(`${b.region}/${b.warehouseId}`);
    expect([...shown].sort(byCell)).toEqual([...expected].sort(byCell));
    for (const cell of shown) expect(cell.onHand).toBe(STOCK[cell.warehouseId ?? '']);
    expect((await attributes(page.locator('#sku-table td[data-total]'), ['data-total'])).map((a) => Number(a['data-total']))).toEqual(
      api.regions.map((r) => r.availability?.available),
    );

    // Two other regions, at least three polls each (2 s apart): data-points counts the points the chart drew.
    const chart = page.locator('#lag-chart');
    await waitFor(async () => (Number(await chart.getAttribute('data-points')) >= 6 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the lag chart to draw three points of each other region',
      describe: async () => `data-points=${await chart.getAttribute('data-points')}`,
    });
    // And the canvas is not blank: the points above were drawn on it, not only counted.
    const inked = await page.evaluate<number>(`(() => {
      const canvas = document.querySelector('#lag-chart');
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) count += 1;
      return count;
    })()`);
    expect(inked).toBeGreaterThan(500);
    expect(await page.locator('#lag-legend li').allTextContents()).toEqual([
      expect.stringMatching(/^ap-south: /),
      expect.stringMatching(/^eu-west: /),
    ]);

    // The key lives in this tab's session storage only: not in the URL, not in local storage.
    expect(page.url()).toBe(`${t.url('us-east')}/dashboard/`);
    expect(await page.evaluate("[sessionStorage.getItem('stockmesh.dashboard.key') !== null, localStorage.length]")).toEqual([true, 0]);
    expect(complaints).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    console.log(`dashboard in the browser: ${Date.now() - started} ms from opening the page to the screenshot`);
    await page.close();
  });
});
