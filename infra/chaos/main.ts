// `npm run chaos -- [--duration <s>] [--seed <n>] [--faults <list>] [--clients <n>] [--settle <s>] [--own-broker]`
//
// Runs the local three-region cluster on throwaway databases and topics under mixed load while a
// seeded fault scheduler hits it, waits for quiescence, and checks the history and the settled
// databases (infra/chaos/chaos-checker.ts). Exit 0 when no check found a violation, 1 otherwise.
//
// The broker is restarted only with --own-broker: the run then starts a broker of its own
// (STOCKMESH_HOME, KAFKA_PORT, KAFKA_CONTROLLER_PORT, default /tmp/stockmesh-chaos, 9392, 9393)
// and stops it at the end. A shared broker (KAFKA_BROKERS, or the default one on 9092) is never
// stopped or restarted.
import { spawn } from 'node:child_process';
import { ensureBroker, interruptSignal, runMain } from '../../bench/bench-support.js';
import { ALL_FAULTS } from './chaos-faults.js';
import type { FaultKind } from './chaos-history.js';
import { formatReport, runChaos } from './chaos-run.js';

const say = (message: string): void => console.log(`chaos: ${message}`);

/** Faults run by default; damaging replica rows waits for anti-entropy, which main does not have yet. */
const DEFAULT_FAULTS: readonly FaultKind[] = ['kill', 'pg-terminate', 'pause', 'broker-restart'];

interface Arguments {
  readonly durationS: number;
  readonly seed: number;
  readonly faults: readonly FaultKind[];
  readonly clients: number;
  readonly settleS: number;
  readonly ownBroker: boolean;
}

function parseArguments(argv: readonly string[]): Arguments {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--own-broker') flags.add(arg);
    else if (['--duration', '--seed', '--faults', '--clients', '--settle'].includes(arg) && argv[i + 1] !== undefined)
      values.set(arg, argv[++i]);
    else throw new Error(`unknown or incomplete argument "${arg}" (see the top of infra/chaos/main.ts)`);
  }
  const int = (name: string, fallback: number, min: number): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
    return n;
  };
  const faults = (values.get('--faults')?.split(',').filter(Boolean) ?? DEFAULT_FAULTS) as FaultKind[];
  const unknown = faults.filter((f) => !ALL_FAULTS.includes(f));
  if (unknown.length > 0) throw new Error(`--faults: unknown ${unknown.join(', ')} (known: ${ALL_FAULTS.join(', ')}, or none)`);
  return {
    durationS: int('--duration', 180, 1),
    seed: int('--seed', Math.floor(Math.random() * 1_000_000), 0),
    faults,
    clients: int('--clients', 4, 1),
    settleS: int('--settle', 420, 1),
    ownBroker: flags.has('--own-broker'),
  };
}

function kafka(command: 'start' | 'stop', env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['infra/kafka/kafka.sh', command], { stdio: ['ignore', 'ignore', 'inherit'], env });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`bash infra/kafka/kafka.sh ${command} failed with code ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  const signal = interruptSignal();
  let brokerEnv: NodeJS.ProcessEnv | undefined;
  const env: Record<string, string> = {};
  if (args.ownBroker) {
    // KAFKA_BROKERS unset: with it, kafka.sh would leave the start to that external cluster.
    brokerEnv = {
      ...process.env,
      KAFKA_BROKERS: undefined,
      STOCKMESH_HOME: process.env.STOCKMESH_HOME ?? '/tmp/stockmesh-chaos',
      KAFKA_PORT: process.env.KAFKA_PORT ?? '9392',
      KAFKA_CONTROLLER_PORT: process.env.KAFKA_CONTROLLER_PORT ?? '9393',
    };
    say(
      `starting a broker of its own: STOCKMESH_HOME=${brokerEnv.STOCKMESH_HOME} KAFKA_PORT=${brokerEnv.KAFKA_PORT} bash infra/kafka/kafka.sh start`,
    );
    await kafka('start', brokerEnv);
    env.KAFKA_BROKERS = `127.0.0.1:${brokerEnv.KAFKA_PORT}`;
  } else {
    await ensureBroker();
    if (args.faults.includes('broker-restart')) say('broker-restart left out: the broker is shared (pass --own-broker to include it)');
  }
  const ownBroker = brokerEnv;
  let passed: boolean;
  try {
    const report = await runChaos({
      durationMs: args.durationS * 1000,
      seed: args.seed,
      faults: args.faults,
      clients: args.clients,
      settleTimeoutMs: args.settleS * 1000,
      restartBroker: ownBroker
        ? async (): Promise<void> => {
            await kafka('stop', ownBroker);
            await kafka('start', ownBroker);
          }
        : undefined,
      env,
      signal,
      log: say,
    });
    console.log(formatReport(report));
    say(`command: npm run chaos -- --duration ${args.durationS} --seed ${args.seed} --faults ${report.faultKinds.join(',') || 'none'}`);
    passed = report.passed;
  } finally {
    if (ownBroker) {
      say('stopping the broker this run started');
      await kafka('stop', ownBroker);
    }
  }
  if (!passed) throw new Error('the checker found violations (listed above)');
}

runMain(main);
