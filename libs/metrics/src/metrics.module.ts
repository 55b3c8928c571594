import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { Metrics } from './metrics.js';

/**
 * One `Metrics` (and so one Prometheus registry) per application, every series labelled with the
 * region. Global: services anywhere record what they do without importing this module.
 */
@Global()
@Module({
  providers: [
    { provide: Metrics, inject: [APP_CONFIG], useFactory: (config: AppConfig): Metrics => new Metrics({ region: config.region.id }) },
  ],
  exports: [Metrics],
})
export class MetricsModule {}
