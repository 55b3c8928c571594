import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { Metrics } from '@stockmesh/metrics';
import { ShardDatabases } from '@stockmesh/persistence';
import { OutboxRepository, ReplicationStatus } from '@stockmesh/replication';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { arrivedInternally } from '../internal/arrived-internally.js';
import { baseUrlOf, bind } from '../plain-server.js';

/** Where Prometheus scrapes, on the internal listener and on the metrics port. */
export const METRICS_PATH = '/metrics';

/**
 * Serves the region's Prometheus metrics and feeds the ones read at scrape time. `GET /metrics`
 * is answered on the internal listener (before its signature check: Prometheus cannot sign) and,
 * with STOCKMESH_METRICS_PORT, on a port of its own; never on the public listener, where it is
 * no route at all (404). Why no credential: docs/observability.md.
 */
@Injectable()
export class MetricsEndpoint implements OnModuleInit, OnApplicationShutdown {
  private server?: Server;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly databases: ShardDatabases,
    private readonly outbox: OutboxRepository,
    private readonly replication: ReplicationStatus,
  ) {}

  onModuleInit(): void {
    const m = this.metrics;
    // The pools first, before the outbox query takes a connection of each.
    m.addCollector(() => {
      for (const pool of this.databases.poolStats()) {
        m.dbPoolConnections.set({ database: pool.database, state: 'total' }, pool.total);
        m.dbPoolConnections.set({ database: pool.database, state: 'idle' }, pool.idle);
        m.dbPoolWaiting.set({ database: pool.database }, pool.waiting);
      }
    });
    // One count(*) per database: the outbox holds what is not published yet, normally a few rows.
    m.addCollector(async () => {
      const counts = await Promise.all(this.databases.all().map((db) => this.databases.read(db, (tx) => this.outbox.pending(tx))));
      this.databases.all().forEach((db, i) => m.outboxPending.set({ database: db.name }, counts[i]));
    });
    m.addCollector(() => {
      for (const source of this.replication.all()) {
        m.replicationLagEvents.set({ source_region: source.region }, source.eventsBehind);
        m.replicationLagSeconds.set({ source_region: source.region }, source.lagMs / 1000);
        m.replicationSourceStale.set({ source_region: source.region }, source.stale ? 1 : 0);
      }
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Counts and times every HTTP request of both listeners, by route template (never the raw URL). */
  attach(app: NestFastifyApplication): void {
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onResponse', async (request, reply) => {
        const labels = {
          listener: arrivedInternally(request.raw) ? 'internal' : 'public',
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
        };
        this.metrics.httpRequests.inc({ ...labels, status: String(reply.statusCode) });
        this.metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
      });
  }

  /** Answers `GET /metrics` (and HEAD); `false` for any other request, which the caller serves. */
  answers(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    if (request.url?.split('?')[0] !== METRICS_PATH) return false;
    this.metrics.exposition().then(
      (text) => {
        response.writeHead(200, { 'content-type': this.metrics.contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`metrics could not be collected: ${(error as Error).message}\n`);
      },
    );
    return true;
  }

  /** Binds the metrics port (default: STOCKMESH_METRICS_PORT and _HOST); serves /metrics only, 404 otherwise. */
  async listen(port = this.config.metrics.port, host = this.config.metrics.host): Promise<void> {
    if (port === undefined) return;
    const server = createServer((request, response) => {
      if (this.answers(request, response)) return;
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`only ${METRICS_PATH} is served here\n`);
    });
    await bind(server, port, host);
    this.server = server;
  }

  /** The base URL of the metrics port (with the port actually bound, e.g. after `listen(0)`). */
  url(): string {
    return baseUrlOf(this.server, 'the metrics port');
  }
}
