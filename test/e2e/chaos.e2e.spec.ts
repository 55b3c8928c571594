import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FaultKind } from '../../infra/chaos/chaos-history.js';
import { formatReport, runChaos } from '../../infra/chaos/chaos-run.js';

// The short chaos run of every submission: a fixed seed, about a minute of mixed load on three
// region processes while they are killed, paused past the hold and lease timeouts, and cut off
// from their databases; then the checker over the history and the settled databases. The long
// run is `npm run chaos` (docs/chaos.md).
//
// Only the broker `npm test` manages (infra/kafka/kafka.sh, STOCKMESH_TEST_LOCAL_KAFKA=true) may be
// restarted; an external or shared one (KAFKA_BROKERS given to npm test) is never touched.
const localBroker = process.env.STOCKMESH_TEST_LOCAL_KAFKA === 'true';
const FAULTS: readonly FaultKind[] = ['kill', 'pg-terminate', 'pause', ...(localBroker ? (['broker-restart'] as const) : [])];
const SEED = 20261202;
const LOAD_MS = 75_000;
const SETTLE_MS = 150_000;

async function restartLocalBroker(): Promise<void> {
  // kafka.sh does nothing when KAFKA_BROKERS is set: it must see the local broker's settings only.
  // Asynchronous, so that the load goes on while the broker is down.
  const env = { ...process.env, KAFKA_BROKERS: '' };
  await promisify(execFile)('bash', ['infra/kafka/kafka.sh', 'stop'], { env });
  await promisify(execFile)('bash', ['infra/kafka/kafka.sh', 'start'], { env });
}

describe('chaos', () => {
  it(
    `finds no violation after ${LOAD_MS / 1000} s of load under faults [${FAULTS.join(', ')}] (seed ${SEED})`,
    async () => {
      const report = await runChaos({
        durationMs: LOAD_MS,
        seed: SEED,
        faults: FAULTS,
        clients: 4,
        settleTimeoutMs: SETTLE_MS,
        restartBroker: localBroker ? restartLocalBroker : undefined,
        signal: new AbortController().signal,
        log: (message) => process.stdout.write(`chaos: ${message}\n`),
      });
      process.stdout.write(`${formatReport(report)}\n`);
      // The run did something: requests were answered and faults were injected.
      expect(Object.values(report.operations).reduce((n, c) => n + c.ok, 0)).toBeGreaterThan(50);
      expect(Object.values(report.faults).reduce((n, c) => n + c, 0)).toBeGreaterThan(0);
      // On failure, the whole report: each violation with the history that shows it.
      expect(report.passed ? 'no violations' : formatReport(report)).toBe('no violations');
    },
    60_000 + LOAD_MS + SETTLE_MS + 60_000,
  );
});
