import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CatalogModule } from '@stockmesh/catalog';
import { ConfigModule, type AppConfig } from '@stockmesh/config';
import { requestIdOf } from '@stockmesh/http';
import { PersistenceModule } from '@stockmesh/persistence';
import { StockModule } from '@stockmesh/stock';
import { LoggerModule } from 'nestjs-pino';
import { HealthHttpController } from './health/health.http.controller.js';

/** One region of stockmesh. */
@Module({})
export class RegionModule {
  static forConfig(config: AppConfig): DynamicModule {
    return {
      module: RegionModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.log.level,
            base: { region: config.region.id },
            genReqId: requestIdOf,
            autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
            redact: ['req.headers.authorization'],
          },
        }),
        TerminusModule,
        PersistenceModule,
        CatalogModule,
        StockModule,
      ],
      controllers: [HealthHttpController],
    };
  }
}
