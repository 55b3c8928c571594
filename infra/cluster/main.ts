// `npm start`: every region of the configured cluster on this machine, with a local Kafka broker
// unless KAFKA_BROKERS names one. Ctrl-C stops the regions, then the broker if this run started it.
// Databases and Kafka data are kept, so the next `npm start` carries on where this one stopped.
import { spawn } from 'node:child_process';
import { withDatabase, type ClusterConfig } from '@stockmesh/config';
import { redact } from '@stockmesh/persistence';
import pg from 'pg';
import { adminKeyFile, localAdminKey } from './admin-key.js';
import { ensureClusterSecret, localClusterSecretFile } from './cluster-secret.js';
import {
  clusterFromEnvironment,
  describeExit,
  endpoint,
  LOG_FORMATS,
  localKafkaCredentials,
  startLocalCluster,
  type LocalCluster,
  type LogFormat,
  type RegionExit,
} from './local-cluster.js';
import { startStatusLines, statusSeconds } from './status-lines.js';

const KAFKA_SH = 'infra/kafka/kafka.sh';

const say = (message: string): void => console.log(`stockmesh: ${message}`);

/**
 * How the regions' lines are shown: STOCKMESH_LOG_FORMAT (`pretty`, `prefixed` or `json`), else
 * `pretty` on a terminal and the regions' own JSON lines, prefixed, when piped or redirected.
 */
function logFormat(): LogFormat {
  const asked = process.env.STOCKMESH_LOG_FORMAT;
  if (asked === undefined || asked === '') return process.stdout.isTTY ? 'pretty' : 'prefixed';
  if (!(LOG_FORMATS as readonly string[]).includes(asked)) {
    throw new Error(`STOCKMESH_LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}, not ${JSON.stringify(asked)}`);
  }
  return asked as LogFormat;
}

/** Runs `bash infra/kafka/kafka.sh <command>`; resolves its exit code. `status` runs silently. */
async function kafkaSh(command: 'start' | 'stop' | 'status'): Promise<number> {
  const child = spawn('bash', [KAFKA_SH, command], { stdio: command === 'status' ? 'ignore' : 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * Where kafka.sh's nodes listen and how many copies a topic gets there (`kafka.sh brokers`): one
 * node, or the three of `STOCKMESH_KAFKA_NODES=3`, whose topics need replication factor 3 so that
 * the loss of one node loses no acknowledged write. The regions are told both.
 */
async function localKafka(): Promise<{ readonly brokers: string; readonly replicationFactor: string }> {
  const child = spawn('bash', [KAFKA_SH, 'brokers'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c ?? 1));
  });
  const [brokers, replicationFactor] = out.trim().split(/\s+/);
  if (code !== 0 || !brokers || !/^[1-9]$/.test(replicationFactor ?? '')) {
    throw new Error(`bash ${KAFKA_SH} brokers answered ${JSON.stringify(out.trim())} (exit ${code})`);
  }
  return { brokers, replicationFactor };
}

/** Fails with what to do when a PostgreSQL server of the cluster does not answer. */
async function checkPostgres(cluster: ClusterConfig): Promise<void> {
  const servers = new Set(cluster.regions.flatMap((r) => r.databases.map((d) => withDatabase(d.url, 'postgres'))));
  for (const url of servers) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
    } catch (error) {
      const from = process.env.STOCKMESH_CLUSTER_FILE ? `STOCKMESH_CLUSTER_FILE=${process.env.STOCKMESH_CLUSTER_FILE}` : 'DATABASE_URL';
      throw new Error(
        `PostgreSQL does not answer at ${redact(url)} (from ${from}): ${error instanceof Error ? error.message : String(error)}\n` +
          '  Start PostgreSQL there, or point DATABASE_URL at a server where this user may create databases, e.g.\n' +
          '  DATABASE_URL=postgres://user:password@host:5432/postgres npm start',
        { cause: error },
      );
    }
    await client.end();
  }
}

function banner(cluster: LocalCluster, kafka: string, adminKey: string): string {
  const width = Math.max(...cluster.regions.map((r) => r.id.length));
  const rows = cluster.regions.map(
    ({ id, url, internalUrl }) =>
      `  ${id.padEnd(width)}  ${url}   dashboard ${endpoint(url, 'dashboard/')}   docs ${endpoint(url, 'docs')}   ready ${endpoint(url, 'health/ready')}   internal ${internalUrl}`,
  );
  return [
    `stockmesh is running: ${cluster.regions.length} regions (Ctrl-C stops them)`,
    ...rows,
    `  kafka: ${kafka}`,
    `  admin key: ${adminKey}`,
    `  every /v1 request needs it: export STOCKMESH_KEY=$(cat ${adminKeyFile()}); curl -H "Authorization: Bearer $STOCKMESH_KEY" ...`,
  ].join('\n');
}

async function main(): Promise<void> {
  // Checked before anything starts: a wrong setting fails at once.
  const format = logFormat();
  const statusEvery = statusSeconds(process.env, process.stdout.isTTY === true);
  // Ctrl-C reaches this process twice (from the terminal, and forwarded by npm): one stop is enough.
  const stopRequested = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopRequested.signal.aborted) return;
    say(`${signal}: stopping`);
    stopRequested.abort();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  const stopped = new Promise<void>((resolve) => stopRequested.signal.addEventListener('abort', () => resolve(), { once: true }));

  const cluster = clusterFromEnvironment(process.env);
  let startedKafka = false;
  let local: LocalCluster | undefined;
  try {
    let brokers = process.env.KAFKA_BROKERS ?? '';
    const topicCopies: Record<string, string> = {};
    let kafka: string;
    if (process.env.KAFKA_BROKERS) {
      kafka = `${brokers} (KAFKA_BROKERS)`;
      say(`using the Kafka cluster KAFKA_BROKERS=${brokers}`);
    } else {
      let how: string;
      if ((await kafkaSh('status')) === 0) {
        how = 'already running; left running on exit';
        say('reusing the running Kafka broker');
      } else {
        // Set before the start: if Ctrl-C interrupts it, the broker may be up all the same.
        startedKafka = true;
        say(`starting the Kafka broker: bash ${KAFKA_SH} start`);
        if ((await kafkaSh('start')) !== 0) throw new Error(`bash ${KAFKA_SH} start failed (its reason is above)`);
        how = 'started by this run; stopped on exit';
      }
      const nodes = await localKafka();
      brokers = nodes.brokers;
      // KAFKA_REPLICATION_FACTOR, when set, is the operator's; else as many copies as kafka.sh gives its own topics.
      if (!process.env.KAFKA_REPLICATION_FACTOR) topicCopies.KAFKA_REPLICATION_FACTOR = nodes.replicationFactor;
      kafka = `${brokers} (${how}${nodes.replicationFactor === '1' ? '' : `; topics with ${nodes.replicationFactor} replicas`})`;
    }
    stopRequested.signal.throwIfAborted();

    say('checking that PostgreSQL answers');
    await checkPostgres(cluster);
    stopRequested.signal.throwIfAborted();

    // Region-to-region calls are signed with a secret every region shares: made once, kept in $STOCKMESH_HOME (.stockmesh/).
    const secretEnv: Record<string, string> = {};
    if (process.env.STOCKMESH_CLUSTER_SECRET || process.env.STOCKMESH_CLUSTER_SECRET_FILE) {
      say('using the cluster secret from STOCKMESH_CLUSTER_SECRET(_FILE)');
    } else {
      const secretFile = localClusterSecretFile();
      const { created } = ensureClusterSecret(secretFile);
      say(`${created ? 'made a new' : 'using the'} cluster secret ${secretFile} (mode 0600)`);
      secretEnv.STOCKMESH_CLUSTER_SECRET_FILE = secretFile;
    }
    // Every region's bootstrap admin key: STOCKMESH_ADMIN_KEY, else the one kept in $STOCKMESH_HOME (.stockmesh/).
    let adminKey: string;
    let adminKeyShown: string;
    if (process.env.STOCKMESH_ADMIN_KEY) {
      adminKey = process.env.STOCKMESH_ADMIN_KEY;
      adminKeyShown = 'STOCKMESH_ADMIN_KEY (from the environment; not shown)';
    } else {
      const kept = localAdminKey();
      adminKey = kept.key;
      adminKeyShown = `${adminKey} (${kept.source === 'made' ? 'made now and kept' : 'kept'} in ${adminKeyFile()}, mode 0600)`;
      say(`${kept.source === 'made' ? 'made an admin key' : 'using the admin key'} in ${adminKeyFile()}`);
    }

    let onUnexpectedExit!: (exit: RegionExit) => void;
    const unexpectedExit = new Promise<RegionExit>((resolve) => (onUnexpectedExit = resolve));
    say(`starting ${cluster.regions.length} regions`);
    // kafka.sh's broker runs with SASL (unless its data predates it): each region gets its principal.
    const credentials = localKafkaCredentials(process.env);
    if (credentials) kafka += `, SASL/SCRAM with the principals in ${credentials}`;
    local = await startLocalCluster({
      env: {
        KAFKA_BROKERS: brokers,
        ...topicCopies,
        STOCKMESH_ADMIN_KEY: adminKey,
        ...secretEnv,
        STOCKMESH_KAFKA_CREDENTIALS: credentials,
      },
      ownProcessGroups: true,
      log: { format },
      signal: stopRequested.signal,
      onUnexpectedExit,
    });
    console.log(banner(local, kafka, adminKeyShown));
    if (statusEvery > 0) {
      say(`a status line per region every ${statusEvery} s (STOCKMESH_STATUS_SECONDS=off turns them off)`);
      startStatusLines(local.regions, adminKey, statusEvery, (line) => console.log(line), stopRequested.signal);
    }

    const exit = await Promise.race([unexpectedExit, stopped]);
    if (exit) {
      console.error(`stockmesh: last output of ${exit.id}:\n${exit.lastLines.map((l) => `  ${l}`).join('\n')}`);
      throw new Error(`region ${exit.id} exited unexpectedly (${describeExit(exit)}); the other regions were stopped`);
    }
  } catch (error) {
    if (!stopRequested.signal.aborted) throw error;
    // else: stopped during start-up, as asked
  } finally {
    if (local) {
      say('stopping the regions');
      await local.stop();
    }
    if (startedKafka) {
      say('stopping the Kafka broker this run started');
      await kafkaSh('stop');
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`stockmesh: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
