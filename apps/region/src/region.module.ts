import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CatalogModule } from '@stockmesh/catalog';
import { ConfigModule, type AppConfig } from '@stockmesh/config';
import { PersistenceModule } from '@stockmesh/persistence';
import { StockModule } from '@stockmesh/stock';
import { HealthHttpController } from './health/health.http.controller.js';

/** One region of stockmesh. */
@Module({})
export class RegionModule {
  static forConfig(config: AppConfig): DynamicModule {
    return {
      module: RegionModule,
      imports: [
        ConfigModule.forRoot(config),
        TerminusModule,
        PersistenceModule,
        CatalogModule,
        StockModule,
      ],
      controllers: [HealthHttpController],
    };
  }
}
