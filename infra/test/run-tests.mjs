#!/usr/bin/env node
// `npm test [-- <jest arguments>]`: builds, makes sure a Kafka broker answers, runs jest's three
// projects (unit, integration, e2e) and stops the broker again if this run started it.
// Plain JavaScript because it runs before anything is built.
//
// One jest invocation with --runInBand: integration and e2e suites share PostgreSQL, the broker
// and the region ports, so they must not run concurrently; on this project's two cores, running
// the unit specs in band costs little. Extra arguments reach jest unchanged (a path, -t, --selectProjects).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const KAFKA_SH = 'infra/kafka/kafka.sh';
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Names this run's throwaway databases (`<prefix>_${id}...`): a letter, then hex, safe in an identifier. */
const runId = process.env.STOCKMESH_TEST_RUN_ID || `t${randomBytes(3).toString('hex')}`;

let current; // the child process running now, to pass a signal on to
let interrupted; // the first signal received
let cleaningUp = false; // the broker's stop is not to be interrupted

const say = (message) => console.log(`\nnpm test: ${message}`);

/** Runs a command with the terminal attached; resolves its exit code (128+n when a signal ended it). */
function run(command, args, env = process.env) {
  return new Promise((resolve, reject) => {
    current = spawn(command, args, { stdio: 'inherit', env });
    current.once('error', reject);
    current.once('close', (code, signal) => {
      current = undefined;
      resolve(code ?? SIGNAL_EXIT[signal] ?? 1);
    });
  });
}

// A signal ends the running step (a terminal's Ctrl-C reaches it directly too; twice does no
// harm), but not this process: it still has to stop the broker.
for (const signal of Object.keys(SIGNAL_EXIT)) {
  process.on(signal, () => {
    interrupted ??= signal;
    if (!cleaningUp) current?.kill(signal);
  });
}

async function main() {
  say('building: npm run -s build');
  const built = await run('npm', ['run', '-s', 'build']);
  if (built !== 0) {
    console.error('npm test: the build failed (see above)');
    return built;
  }
  if (interrupted) return SIGNAL_EXIT[interrupted];

  let startedKafka = false;
  try {
    if (process.env.KAFKA_BROKERS) {
      say(`using the Kafka cluster KAFKA_BROKERS=${process.env.KAFKA_BROKERS}`);
    } else {
      say(`looking for a running broker: bash ${KAFKA_SH} status`);
      if ((await run('bash', [KAFKA_SH, 'status'])) === 0) {
        say('reusing it (left running afterwards)');
      } else {
        // Set before the start: if it is interrupted, the broker may be up all the same.
        startedKafka = true;
        say(`starting the Kafka broker: bash ${KAFKA_SH} start`);
        const code = await run('bash', [KAFKA_SH, 'start']);
        if (code !== 0) {
          console.error(`npm test: bash ${KAFKA_SH} start failed (see above)`);
          return code;
        }
      }
    }
    if (interrupted) return SIGNAL_EXIT[interrupted];

    // KAFKA_BROKERS tells the suites where the broker is, in case KAFKA_PORT moved it.
    const brokers = process.env.KAFKA_BROKERS || `127.0.0.1:${process.env.KAFKA_PORT || 9092}`;
    // jest is never forced to exit: every suite closes what it opened, and an app's close() stops every
    // background loop and Kafka client it started; jest ends by itself or the run is broken.
    const jest = ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--runInBand', ...process.argv.slice(2)];
    say(`running jest (STOCKMESH_TEST_RUN_ID=${runId} KAFKA_BROKERS=${brokers}): node ${jest.join(' ')}`);
    // STOCKMESH_TEST_LOCAL_KAFKA tells fault suites that the broker is this machine's kafka.sh broker,
    // which they may stop and start again; an external cluster (KAFKA_BROKERS) is never touched.
    const local = process.env.KAFKA_BROKERS ? 'false' : 'true';
    // kafka.sh's broker runs with SASL and ACLs (unless its data predates them): the suites give
    // each region its own principal and talk to the broker as its admin, from this file.
    const credentials = resolve(process.env.STOCKMESH_HOME || '.stockmesh', 'kafka', 'credentials.json');
    const secured = local === 'true' && existsSync(credentials);
    if (secured) say(`the broker authenticates its clients: STOCKMESH_KAFKA_CREDENTIALS=${credentials}`);
    return await run(process.execPath, jest, {
      ...process.env,
      KAFKA_BROKERS: brokers,
      STOCKMESH_TEST_RUN_ID: runId,
      STOCKMESH_TEST_LOCAL_KAFKA: local,
      ...(secured ? { STOCKMESH_KAFKA_CREDENTIALS: credentials } : {}),
    });
  } finally {
    cleaningUp = true;
    if (startedKafka) {
      say(`stopping the Kafka broker this run started: bash ${KAFKA_SH} stop`);
      await run('bash', [KAFKA_SH, 'stop']);
    }
  }
}

main().then(
  (code) => process.exit(interrupted ? SIGNAL_EXIT[interrupted] : code),
  (error) => {
    console.error(`npm test: ${error.message}`);
    process.exit(1);
  },
);
