// `npm run openapi:lint` (CI) and `npm run openapi` (after changing the API): writes the OpenAPI
// document of a region to dist/openapi.json without starting one (the Nest app is created, never
// initialized or bound, so no database or broker is needed), lints it with Redocly's recommended
// rules (redocly.yaml), and checks (or with --write, rewrites) the typed client types generated
// from it with openapi-typescript, which the end-to-end tests compile against.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAppConfig } from '@stockmesh/config';
import prettier from 'prettier';
import { createRegionApp, openApiDocument } from '../../apps/region/src/region-app.js';

const DOCUMENT = 'dist/openapi.json';
/** Not at the root, where openapi-typescript's older Redocly core would apply it too. */
const REDOCLY_CONFIG = 'infra/openapi/redocly.yaml';
/** Committed, so that `npm run typecheck` works on a fresh clone before anything is built. */
export const CLIENT_TYPES = 'apps/cli/src/stockmesh-api.generated.ts';
const say = (message: string): void => console.log(`openapi: ${message}`);

class Failure extends Error {}

/** Runs a tool from node_modules/.bin with the terminal attached; fails with `why` unless it exits 0. */
function run(tool: string, args: readonly string[], why: string): void {
  say(`${tool} ${args.join(' ')}`);
  // Redocly would otherwise send usage telemetry and look for updates.
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
  const result = spawnSync(join('node_modules', '.bin', tool), args, { stdio: 'inherit', env });
  if (result.error) throw new Failure(`${tool} did not run: ${result.error.message}`);
  if (result.status !== 0) throw new Failure(why);
}

async function writeDocument(): Promise<void> {
  const config = loadAppConfig({ STOCKMESH_REGION: 'us-east', STOCKMESH_REPLICATION: 'false', STOCKMESH_DOCS: 'false', LOG_LEVEL: 'warn' });
  const app = await createRegionApp(config, { swaggerUi: false });
  try {
    await writeFile(DOCUMENT, `${JSON.stringify(openApiDocument(app, config.region.id), null, 2)}\n`);
  } finally {
    await app.close();
  }
  say(`wrote ${DOCUMENT}`);
}

/** The client types of the document, formatted like the rest of the code (so format:check passes). */
async function clientTypes(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stockmesh-openapi-'));
  try {
    const raw = join(dir, 'api.ts');
    // A default makes a property required by default, which is right for answers but wrong for
    // requests: a request schema's defaults (ttlSeconds, allowSplit) are what an omitted field means.
    run(
      'openapi-typescript',
      [DOCUMENT, '--default-non-nullable=false', '--output', raw],
      'openapi-typescript could not generate the client types (see above)',
    );
    const options = (await prettier.resolveConfig(CLIENT_TYPES)) ?? {};
    return await prettier.format(await readFile(raw, 'utf8'), { ...options, filepath: CLIENT_TYPES });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const write = process.argv.includes('--write');
  await writeDocument();
  run('redocly', ['lint', DOCUMENT, '--config', REDOCLY_CONFIG], `${DOCUMENT} does not pass redocly lint (${REDOCLY_CONFIG}; see above)`);
  const types = await clientTypes();
  const committed = await readFile(CLIENT_TYPES, 'utf8').catch(() => '');
  if (types === committed) {
    say(`${CLIENT_TYPES} is up to date`);
  } else if (write) {
    await writeFile(CLIENT_TYPES, types);
    say(`rewrote ${CLIENT_TYPES}`);
  } else {
    throw new Failure(`${CLIENT_TYPES} is not what the API generates: run 'npm run openapi' and commit it`);
  }
}

main().catch((error: unknown) => {
  console.error(
    `openapi: ${error instanceof Failure ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exitCode = 1;
});
