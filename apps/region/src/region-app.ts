import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { CommandsListener } from '@stockmesh/commands';
import { API_KEY_SECURITY } from '@stockmesh/auth';
import type { AppConfig, Clock } from '@stockmesh/config';
import {
  applyHttpConventions,
  createLogger,
  createValidationPipe,
  DEFAULT_HTTP_SERVER_LIMITS,
  frameworkServerOptions,
  type HttpServerLimits,
  NestPinoLogger,
  ProblemDetailsFilter,
  requestIdOf,
  requestLogger,
  scopeRequests,
} from '@stockmesh/http';
import { serveDashboard } from './dashboard/dashboard-page.js';
import { InternalListener } from './internal/internal-listener.js';
import { MetricsEndpoint } from './metrics/metrics-endpoint.js';
import { RegionModule } from './region.module.js';

export interface RegionAppOptions {
  /**
   * Serve the Swagger UI at /docs (the JSON document at /docs/json is always served). In-process
   * tests turn it off: its static-file plugin requires an ES module from CommonJS, which jest's
   * module loader cannot do on Node 20.
   */
  readonly swaggerUi?: boolean;
  /** The time every service reads; the system clock unless a test brings one it can move. */
  readonly clock?: Clock;
  /** Timeouts and size limits of the HTTP server, over `DEFAULT_HTTP_SERVER_LIMITS` (tests shorten the timeouts). */
  readonly httpLimits?: Partial<HttpServerLimits>;
}

/** Builds (without listening) the HTTP application of one region. */
export async function createRegionApp(config: AppConfig, options: RegionAppOptions = {}): Promise<NestFastifyApplication> {
  const logger = createLogger({ level: config.log.level, region: config.region.id, instance: config.instances.id });
  const adapter = new FastifyAdapter({
    // Timeouts and limits, and problem details for what the router and Node's parser refuse.
    ...frameworkServerOptions(config.region.id, logger, { ...DEFAULT_HTTP_SERVER_LIMITS, ...options.httpLimits }),
    // Fastify logs every request (with its id, status and time) through the process's logger.
    loggerInstance: logger,
    // Request loggers as usual; remembered, so that the lines they write get their reqId only once.
    childLoggerFactory: requestLogger,
    bodyLimit: config.http.bodyLimitBytes,
    // The client's (or the forwarding region's) X-Request-Id, else a new UUID.
    genReqId: requestIdOf,
    requestIdHeader: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(RegionModule.forConfig(config, options.clock), adapter, {
    logger: new NestPinoLogger(logger),
    abortOnError: false,
    // Fastify's own JSON parser only: Nest's would add form bodies, which no route accepts.
    bodyParser: false,
  });
  const routes = applyHttpConventions(app, config.region.id);
  // Every log line written while serving a request carries its reqId, not only the access lines.
  scopeRequests(app.getHttpAdapter().getInstance());
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter(routes));
  app.enableShutdownHooks();
  // Commands from other systems arrive through Kafka, like replication (off in single-region tests).
  if (config.replication.enabled) CommandsListener.connect(app, config);
  // Region-to-region calls get a listener of their own (bound by InternalListener.listen()).
  app.get(InternalListener).attach(app);
  // Every request of both listeners is counted and timed for Prometheus (served on the internal one).
  app.get(MetricsEndpoint).attach(app);

  const document = openApiDocument(app, config.region.id);
  // Open to anyone (no key) unless STOCKMESH_DOCS=false turns it off.
  if (config.http.docs) {
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json', swaggerUiEnabled: options.swaggerUi ?? true });
  }
  // The dashboard's files, open to load like /docs; every figure it shows is fetched with a key.
  if (config.http.dashboard && !serveDashboard(app)) {
    // Only a region run from the sources (an in-process test) has no built page.
    logger.info('the dashboard page is not built (npm run build): /dashboard/ is not served');
  }
  return app;
}

/** The OpenAPI document of a region's app (also written without a region by `npm run openapi`). */
export function openApiDocument(app: NestFastifyApplication, regionId: string): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('stockmesh')
      .setDescription(
        `Region ${regionId} of a stockmesh cluster. Any region answers for any warehouse: writes are forwarded to the owning region. Errors are RFC 9457 problem details.`,
      )
      .setVersion('1')
      .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
      // Every region serves the same API: the one that served this document answers.
      .addServer('/', 'The region that served this document (any region of the cluster)')
      // Every /v1 operation needs an API key; each one names its scope (x-required-scope).
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key: smk_<id>_<secret> (docs/security.md).' }, API_KEY_SECURITY)
      .build(),
  );
}
