import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  oneLine,
  rewriteHosts,
  runShellExample,
  shellExamples,
  startTestCluster,
  TEST_ADMIN_KEY,
  waitFor,
  type ShellExample,
  type ShellOutcome,
  type TestCluster,
} from '@stockmesh/testing';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The shell examples of README.md and the curl examples of docs/*.md, run as a reader runs them:
// copied verbatim into bash, one after the other without waiting, against a real three-region
// cluster. Only `localhost:300N` / `127.0.0.1:300N` is rewritten, to region N of the test cluster.

/**
 * Variables the examples may use, given to bash and nothing else (besides PATH). An example that
 * uses a variable no earlier `export NAME=...` example set fails (`bash -u`).
 */
const EXAMPLE_VARIABLES: Record<string, string> = {};

/**
 * Where the examples run: a folder laid out like a checkout after `npm start`, whose
 * `.stockmesh/admin-key` holds the test cluster's admin key (README: `export STOCKMESH_KEY=$(cat ...)`).
 */
let checkout: string;

/** `export NAME=value` or `name=value` as a reader pastes it: it sets a variable for the examples after it. */
const EXPORT = /^(?:export )?([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\$\([^)]*\)|[^\s"'$]+)$/;

/** The ports of `npm start`'s regions, in cluster order (README.md's table). */
const DOCUMENTED_PORTS = [3001, 3002, 3003];

/** What a file promises of one of its examples. */
interface Promised {
  readonly file: string;
  /** Matches the command as written in the file (continuations joined). */
  readonly command: RegExp;
  /** An exact status; otherwise any 2xx. */
  readonly status?: number;
  /** The promise holds once replication has carried the earlier writes: run again until it does. */
  readonly eventually?: boolean;
  /** Throws (a jest expectation) when the parsed body is not what the file says. */
  readonly body: (body: unknown) => void;
}

const PROMISED: readonly Promised[] = [
  {
    file: 'README.md',
    command: /^curl -X PUT localhost:3002\/v1\/warehouses\/fra-1 /,
    body: (b) => expect(b).toMatchObject({ id: 'fra-1', region: 'eu-west', name: 'Frankfurt 1' }),
  },
  {
    file: 'README.md',
    command: /-X POST localhost:3001\/v1\/warehouses\/fra-1\/stock\/SKU-1\/adjustments /,
    status: 201,
    body: (b) =>
      expect(b).toMatchObject({
        warehouseId: 'fra-1',
        sku: 'SKU-1',
        region: 'eu-west',
        onHand: 24,
        servedBy: 'eu-west',
        movement: { kind: 'adjustment', delta: 24, reason: 'received' },
      }),
  },
  {
    file: 'README.md',
    command: /^curl -H "Authorization: Bearer \$STOCKMESH_KEY" localhost:3003\/v1\/availability\/SKU-1$/,
    eventually: true,
    body: (b) => {
      expect(b).toMatchObject({ sku: 'SKU-1', onHand: 24, available: 24, servedBy: 'ap-south' });
      expect(b).toHaveProperty('warehouses', [expect.objectContaining({ warehouseId: 'fra-1', region: 'eu-west', onHand: 24 })]);
      expect(b).toHaveProperty('freshness', [
        expect.objectContaining({ region: 'us-east' }),
        expect.objectContaining({ region: 'eu-west' }),
      ]);
    },
  },
  {
    file: 'docs/deployment.md',
    command: /^curl -s localhost:3001\/health\/ready$/,
    body: (b) => expect(b).toMatchObject({ status: 'ok', info: { databases: { status: 'up', unreachable: [] } } }),
  },
  {
    file: 'docs/deployment.md',
    command: /-X PUT localhost:3001\/v1\/warehouses\/fra-1 /,
    body: (b) => expect(b).toMatchObject({ id: 'fra-1', region: 'eu-west', name: 'Frankfurt DC 1' }),
  },
  {
    file: 'docs/deployment.md',
    command: /-X PUT localhost:3001\/v1\/warehouses\/fra-1\/stock\/SKU-1 /,
    status: 200,
    body: (b) => expect(b).toMatchObject({ warehouseId: 'fra-1', sku: 'SKU-1', region: 'eu-west', onHand: 120, servedBy: 'eu-west' }),
  },
  {
    file: 'docs/deployment.md',
    command: /^curl -s -H "\$auth" localhost:3003\/v1\/availability\/SKU-1 /,
    eventually: true,
    body: (b) =>
      expect(b).toMatchObject({ servedBy: 'ap-south', warehouses: [expect.objectContaining({ warehouseId: 'fra-1', onHand: 120 })] }),
  },
  {
    file: 'docs/deployment.md',
    command: /^curl -s -H "\$auth" localhost:3003\/v1\/cluster /,
    body: (b) =>
      expect(b).toMatchObject({
        region: 'ap-south',
        shardCount: 16,
        regions: [{ region: 'us-east' }, { region: 'eu-west' }, { region: 'ap-south', self: true }],
      }),
  },
];

/** The Markdown files whose curl examples are checked, besides README.md (whose every example is). */
const DOCS_WITH_CURL_EXAMPLES = ['docs/deployment.md'];

let t: TestCluster;
let ports: Map<number, string>;

function read(file: string): string {
  return readFileSync(file, 'utf8');
}

/** README.md: every example of every ```sh block except the quick start's, which runs npm itself. */
function readmeExamples(): ShellExample[] {
  const blocks = shellExamples('README.md', read('README.md'));
  const runnable = blocks.filter((block) => !block.some((example) => /^npm\b/.test(example.command)));
  expect(blocks.length - runnable.length).toBe(1);
  return runnable.flat();
}

/**
 * A doc's curl commands and the variables they use, out of blocks that also hold docker or npm
 * commands. An `export` belongs to the deployment itself (docker compose reads it): the test
 * cluster was started with the same value (see `DEPLOYMENT_VARIABLES`).
 */
function curlExamples(file: string): ShellExample[] {
  return shellExamples(file, read(file))
    .flat()
    .filter((example) => /^curl\b/.test(example.command) || (EXPORT.test(example.command) && !example.command.startsWith('export ')));
}

/** What docs/deployment.md exports before `docker compose up`, as the test cluster has it. */
const DEPLOYMENT_VARIABLES: Record<string, string> = { STOCKMESH_ADMIN_KEY: TEST_ADMIN_KEY };

/** Runs an `export` example in the checkout and keeps the value it sets for the next examples. */
async function exported(example: ShellExample): Promise<void> {
  const [, name] = EXPORT.exec(oneLine(example.command)) as RegExpExecArray;
  const outcome = await runShellExample(`${example.command}\nprintf '%s' "$${name}"`, EXAMPLE_VARIABLES, { cwd: checkout });
  if (outcome.exitCode !== 0 || outcome.stdout === '') {
    throw new Error(
      `${example.file}:${example.line} \`${oneLine(example.command)}\` set nothing: exit ${outcome.exitCode}, ${outcome.stderr}`,
    );
  }
  EXAMPLE_VARIABLES[name] = outcome.stdout;
}

function promiseOf(example: ShellExample): Promised {
  const written = oneLine(example.command);
  const found = PROMISED.filter((p) => p.file === example.file && p.command.test(written));
  if (found.length !== 1) {
    throw new Error(
      `${example.file}:${example.line}: ${found.length === 0 ? 'no' : 'more than one'} expectation in this test for \`${written}\`: say here what it answers`,
    );
  }
  return found[0];
}

/** Why an outcome breaks the promise, or undefined when it keeps it. */
function broken(promised: Promised, outcome: ShellOutcome): string | undefined {
  const status = outcome.httpStatus;
  const statusOk = promised.status === undefined ? status !== undefined && status >= 200 && status < 300 : status === promised.status;
  if (outcome.exitCode !== 0 || !statusOk) {
    return `exit ${outcome.exitCode}, HTTP ${status ?? 'none'} (expected ${promised.status ?? '2xx'}), stderr ${outcome.stderr}, body ${outcome.stdout}`;
  }
  try {
    promised.body(JSON.parse(outcome.stdout));
    return undefined;
  } catch (error) {
    return `${(error as Error).message}\nbody: ${outcome.stdout}`;
  }
}

/** Runs the examples in order, as pasted, each checked against what its file promises. */
async function runInOrder(examples: readonly ShellExample[]): Promise<void> {
  expect(examples.length).toBeGreaterThan(0);
  // Every example has a promise before anything runs: a new example needs one, and a missing one
  // means the file lost an example this test expects.
  const plan = examples.map((example) => ({ example, promised: EXPORT.test(oneLine(example.command)) ? undefined : promiseOf(example) }));
  const files = new Set(examples.map((e) => e.file));
  for (const unused of PROMISED.filter((p) => files.has(p.file) && !plan.some((step) => step.promised === p))) {
    throw new Error(`${unused.file} has no example matching ${unused.command}, which this test expects`);
  }
  for (const { example, promised } of plan) {
    if (promised === undefined) {
      await exported(example);
      continue;
    }
    const command = rewriteHosts(example.command, ports);
    const where = `${example.file}:${example.line} \`${oneLine(example.command)}\` (${example.comment || 'no comment'})`;
    let why = broken(promised, await runShellExample(command, EXAMPLE_VARIABLES, { cwd: checkout }));
    if (why !== undefined && promised.eventually) {
      // Replicated state: run the read again until it shows, within a bound.
      await waitFor(
        async () => {
          why = broken(promised, await runShellExample(command, EXAMPLE_VARIABLES, { cwd: checkout }));
          return why === undefined ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200, what: where, describe: () => Promise.resolve(why ?? '') },
      );
    }
    if (why !== undefined) throw new Error(`${where}:\n${why}`);
  }
}

beforeAll(async () => {
  checkout = mkdtempSync(join(tmpdir(), 'stockmesh-readme-'));
  mkdirSync(join(checkout, '.stockmesh'));
  writeFileSync(join(checkout, '.stockmesh', 'admin-key'), TEST_ADMIN_KEY, { mode: 0o600 });
  t = await startTestCluster('readme');
  const regions = t.cluster.config.regions;
  ports = new Map(DOCUMENTED_PORTS.map((port, i) => [port, new URL(t.url(regions[i].id)).host]));
}, 120_000);

afterAll(async () => {
  await t?.close();
  rmSync(checkout, { recursive: true, force: true });
}, 60_000);

describe('the examples of the documentation', () => {
  it("README.md's examples, pasted top to bottom, answer what its comments say", async () => {
    await runInOrder(readmeExamples());
    // The key the README reads is the one npm start keeps, and the examples used it.
    expect(EXAMPLE_VARIABLES.STOCKMESH_KEY).toBe(TEST_ADMIN_KEY);
  }, 120_000);

  it.each(DOCS_WITH_CURL_EXAMPLES)(
    "%s's curl examples answer what the file says",
    async (file) => {
      Object.assign(EXAMPLE_VARIABLES, DEPLOYMENT_VARIABLES);
      await runInOrder(curlExamples(file));
    },
    120_000,
  );
});
