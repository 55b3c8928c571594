import { describe, expect, it } from '@jest/globals';
import { regionKafkaEnv, TEST_ADMIN_KEY, testDatabaseUrl, throwawayPrefix } from '@stockmesh/testing';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

// An app's close() must stop every background loop and client it started: a Kafka client, a
// retry timer or a database connection left behind keeps the process alive (jest never exits,
// an embedding process never stops). Each case runs a region app from the build in a child
// process that closes it and then has nothing left to do: it must exit by itself.

/** How long a child may take to exit after it said "closed" (generous: two shared cores). */
const EXIT_GRACE_MS = 15_000;

interface Outcome {
  readonly exited: boolean;
  readonly code: number | null;
  readonly output: string;
}

async function openAndClose(env: Record<string, string>): Promise<Outcome> {
  const child = spawn(process.execPath, ['test/support/open-and-close-region.mjs'], {
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      DATABASE_URL: testDatabaseUrl(),
      STOCKMESH_REGION: 'us-east',
      STOCKMESH_ADMIN_KEY: TEST_ADMIN_KEY,
      AUTHORIZATION: `Bearer ${TEST_ADMIN_KEY}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => void (output += chunk.toString());
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // The child gets as long as it needs to start and close; the grace starts once it has closed.
  await new Promise<void>((resolve) => {
    const seen = (): void => {
      if (/^closed$/m.test(output)) resolve();
    };
    child.stdout.on('data', seen);
    void exit.then(() => resolve());
  });
  const timer = new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), EXIT_GRACE_MS).unref());
  const result = await Promise.race([exit, timer]);
  if (result === 'running') {
    child.kill('SIGKILL');
    return { exited: false, code: null, output };
  }
  return { exited: true, code: result, output };
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('closing a region app', () => {
  it('stops retrying to reach a broker that never answers', async () => {
    const outcome = await openAndClose({
      STOCKMESH_DB_PREFIX: throwawayPrefix('shutnob'),
      STOCKMESH_REPLICATION: 'true',
      KAFKA_BROKERS: `127.0.0.1:${await closedPort()}`,
    });
    expect(outcome).toMatchObject({ exited: true, code: 0 });
  }, 120_000);

  it('closes every Kafka client and database connection once replication has published', async () => {
    const outcome = await openAndClose({
      STOCKMESH_DB_PREFIX: throwawayPrefix('shutbrk'),
      STOCKMESH_REPLICATION: 'true',
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
      KAFKA_TOPIC_PREFIX: `${throwawayPrefix('shutbrk').replace(/_/g, '-')}.`,
      // The region's own principal when the test broker authenticates its clients.
      ...regionKafkaEnv('us-east'),
      WRITE: '1',
    });
    expect(outcome).toMatchObject({ exited: true, code: 0 });
  }, 120_000);

  it('closes a command consumer that is still joining its group', async () => {
    // Closed the moment the consumer has connected, while it subscribes and joins: Nest's Kafka
    // server closed then would carry on starting and connect again after close().
    const prefix = throwawayPrefix('shutjoin');
    const outcome = await openAndClose({
      STOCKMESH_DB_PREFIX: prefix,
      STOCKMESH_REPLICATION: 'true',
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
      KAFKA_TOPIC_PREFIX: `${prefix.replace(/_/g, '-')}.`,
      ...regionKafkaEnv('us-east'),
      CLOSE_WHEN: 'commands-connected',
    });
    expect(outcome).toMatchObject({ exited: true, code: 0 });
  }, 120_000);
});
