#!/usr/bin/env node
// Part of `npm run build`: copies the dashboard page's HTML, CSS and icon beside its compiled scripts
// (tsc emits only the .js), into the folder the region serves at /dashboard/.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';

const from = 'apps/dashboard/src';
const to = 'dist/apps/dashboard/src';
mkdirSync(to, { recursive: true });
const copied = readdirSync(from).filter((name) => ['.html', '.css', '.svg'].includes(extname(name)));
if (!copied.includes('index.html')) {
  console.error(`dashboard-assets: no index.html in ${from}`);
  process.exit(1);
}
for (const name of copied) copyFileSync(join(from, name), join(to, name));
