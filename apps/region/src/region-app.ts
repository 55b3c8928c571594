import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { CommandsListener } from '@stockmesh/commands';
import type { AppConfig, Clock } from '@stockmesh/config';
import {
  applyHttpConventions,
  createLogger,
  createValidationPipe,
  NestPinoLogger,
  ProblemDetailsFilter,
  requestIdOf,
} from '@stockmesh/http';
import { InternalListener } from './internal/internal-listener.js';
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
}

/** Builds (without listening) the HTTP application of one region. */
export async function createRegionApp(config: AppConfig, options: RegionAppOptions = {}): Promise<NestFastifyApplication> {
  const logger = createLogger({ level: config.log.level, region: config.region.id });
  const adapter = new FastifyAdapter({
    // Fastify logs every request (with its id, status and time) through the process's logger.
    loggerInstance: logger,
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
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.enableShutdownHooks();
  // Commands from other systems arrive through Kafka, like replication (off in single-region tests).
  if (config.replication.enabled) CommandsListener.connect(app, config);
  applyHttpConventions(app, config.region.id);
  // Region-to-region calls get a listener of their own (bound by InternalListener.listen()).
  app.get(InternalListener).attach(app);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('stockmesh')
      .setDescription(
        `Region ${config.region.id} of a stockmesh cluster. Any region answers for any warehouse: writes are forwarded to the owning region. Errors are RFC 9457 problem details.`,
      )
      .setVersion('1')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json', swaggerUiEnabled: options.swaggerUi ?? true });
  return app;
}
