import type { AppConfig } from '@stockmesh/config';
import { createLogger } from '@stockmesh/http';
import cluster, { type Worker } from 'node:cluster';

/** A worker that dies sooner than this after its fork counts as failing to start. */
const HEALTHY_AFTER_MS = 10_000;
/** Re-forks of a worker that keeps dying wait this long, doubled each time, up to `REFORK_MAX_MS`. */
const REFORK_MIN_MS = 100;
const REFORK_MAX_MS = 5_000;

/**
 * The primary of a region that runs as STOCKMESH_INSTANCES processes (node:cluster): it serves no
 * request itself. It forks one worker per instance (`STOCKMESH_INSTANCE_INDEX` = 1..N), and every
 * `listen()` of a worker on the region's public or internal port shares one socket held here, which
 * hands each new connection to the next worker in turn. A worker that dies is re-forked with the
 * same index; only the connections it was serving are lost (docs/deployment.md). Until one has
 * served, a worker that exits stops the region instead, with its exit code. SIGTERM or SIGINT
 * stop the workers (each shuts down as a single-process region does) and then the primary.
 *
 * Every background job runs in every worker and is written to be safe with several instances
 * sharing the databases (row locks, advisory locks, the consumer group): see each job's comment.
 */
export function runRegionPrimary(config: AppConfig): void {
  const logger = createLogger({ level: config.log.level, region: config.region.id, instance: `${config.region.id}/primary` });
  const workers = new Map<Worker, { index: number; forkedAt: number }>();
  const failures = new Map<number, number>();
  let stopping = false;
  let everListened = false;

  const fork = (index: number): void => {
    const worker = cluster.fork({ STOCKMESH_INSTANCE_INDEX: String(index) });
    workers.set(worker, { index, forkedAt: Date.now() });
    logger.info({ msg: 'instance started', instanceIndex: index, workerPid: worker.process.pid });
  };

  cluster.on('listening', (worker, address) => {
    if (address.port !== config.region.port) return;
    everListened = true;
    logger.info({ msg: 'instance serving', instanceIndex: workers.get(worker)?.index, workerPid: worker.process.pid });
  });

  cluster.on('exit', (worker, code, signal) => {
    const state = workers.get(worker);
    workers.delete(worker);
    if (!state) return;
    if (stopping) {
      if (workers.size === 0) {
        logger.info({ msg: 'every instance stopped' });
        process.exit(exitCode);
      }
      return;
    }
    // Before the region ever served, a worker that cannot start (a port taken, a database that
    // does not answer) would fail again and again: stop the region with its exit code, as a
    // region of one process would, so that the launcher or supervisor sees why.
    if (!everListened) {
      logger.fatal({ msg: 'an instance failed to start; stopping the region', instanceIndex: state.index, code, signal });
      stop('SIGTERM', code !== null && code !== 0 ? code : 1);
      return;
    }
    const failed = Date.now() - state.forkedAt < HEALTHY_AFTER_MS ? (failures.get(state.index) ?? 0) + 1 : 0;
    failures.set(state.index, failed);
    const delayMs = failed === 0 ? 0 : Math.min(REFORK_MIN_MS * 2 ** (failed - 1), REFORK_MAX_MS);
    logger.error({
      msg: 'instance died; forking it again',
      instanceIndex: state.index,
      workerPid: worker.process.pid,
      code,
      signal,
      delayMs,
    });
    setTimeout(() => {
      if (!stopping) fork(state.index);
    }, delayMs);
  });

  let exitCode = 0;
  const stop = (signal: NodeJS.Signals, code = 0): void => {
    exitCode = Math.max(exitCode, code);
    if (stopping) return;
    stopping = true;
    logger.info({ msg: 'stopping every instance', signal, instances: workers.size });
    if (workers.size === 0) process.exit(exitCode);
    // Each worker shuts down gracefully on SIGTERM, as a single-process region does.
    for (const worker of workers.keys()) worker.process.kill('SIGTERM');
  };
  process.on('exit', () => {
    // The primary never leaves workers behind, whatever ends it.
    for (const worker of workers.keys()) worker.process.kill('SIGKILL');
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  logger.info({ msg: 'starting the region as several instances', instances: config.instances.count, port: config.region.port });
  for (let index = 1; index <= config.instances.count; index++) fork(index);
}
