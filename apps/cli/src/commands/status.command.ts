import type { Command } from 'commander';
import { answer, type StockmeshApi } from '../api-client.js';
import { printTable, show, type Output } from '../output.js';

/** Whether a region says it is ready (`/health/ready`, open, no key): `ready`, `not ready` or why it did not answer. */
async function readiness(url: string): Promise<string> {
  try {
    const response = await fetch(new URL('/health/ready', url), { signal: AbortSignal.timeout(5_000) });
    return response.ok ? 'ready' : `not ready (${response.status})`;
  } catch (error) {
    return `unreachable (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name})`;
  }
}

export function statusCommand(program: Command, api: () => StockmeshApi, output: () => Output): void {
  program
    .command('status')
    .description("the cluster as the region at --url sees it: every region's readiness, replication lag and anti-entropy")
    .action(async () => {
      const { data } = await answer(api().GET('/v1/cluster'));
      const ready = await Promise.all(data.regions.map((r) => readiness(r.url)));
      show(output(), { ...data, regions: data.regions.map((r, i) => ({ ...r, health: ready[i] })) }, (cluster) => {
        process.stdout.write(
          `region ${cluster.region} answered; ${cluster.shardCount} shards; outbox pending ${cluster.outboxPending ?? 'unknown (a database did not answer)'}\n\n`,
        );
        printTable(
          ['region', 'health', 'lag ms', 'events behind', 'stale', 'last heartbeat', 'digests', 'buckets differed', 'rows repaired'],
          cluster.regions.map((r) => [
            r.self ? `${r.region} (this)` : r.region,
            r.health,
            r.self ? null : r.lagMs,
            r.self ? null : r.eventsBehind,
            r.self ? '-' : r.stale ? 'STALE' : 'no',
            r.lastHeartbeatAt,
            r.replicaChecks?.digestsCompared ?? null,
            r.replicaChecks?.bucketsDiffered ?? null,
            r.replicaChecks?.rowsRepaired ?? null,
          ]),
        );
        const audit = cluster.holdAudit;
        process.stdout.write(
          audit
            ? `\nhold audit at ${audit.at}: ${audit.checked} checked, ${audit.released} released, ${audit.anomalies} anomalies, ${audit.unanswered} unanswered\n`
            : '\nhold audit: none yet\n',
        );
      });
    });
}
