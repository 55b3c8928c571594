import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule } from '@stockmesh/auth';
import { CatalogModule } from '@stockmesh/catalog';
import { CommandsModule } from '@stockmesh/commands';
import { ConfigModule, type AppConfig, type Clock } from '@stockmesh/config';
import { RegionTrustModule } from '@stockmesh/http';
import { MetricsModule } from '@stockmesh/metrics';
import { PersistenceModule } from '@stockmesh/persistence';
import { ReplicationModule } from '@stockmesh/replication';
import { ReservationsModule } from '@stockmesh/reservations';
import { StockModule } from '@stockmesh/stock';
import { TransfersModule } from '@stockmesh/transfers';
import { ClusterHttpController } from './cluster/cluster.http.controller.js';
import { ShardsHttpController } from './shards/shards.http.controller.js';
import { ListDeadLettersHttpController } from './dead-letters/list-dead-letters/list-dead-letters.http.controller.js';
import { ReplayDeadLetterHttpController } from './dead-letters/replay-dead-letter/replay-dead-letter.http.controller.js';
import { DeadLettersService } from './dead-letters/dead-letters.service.js';
import { HealthHttpController } from './health/health.http.controller.js';
import { InternalListener } from './internal/internal-listener.js';
import { MetricsEndpoint } from './metrics/metrics-endpoint.js';

/** One region of stockmesh. */
@Module({})
export class RegionModule {
  /** `clock` defaults to the system's; tests pass one they can move. */
  static forConfig(config: AppConfig, clock?: Clock): DynamicModule {
    return {
      module: RegionModule,
      imports: [
        ConfigModule.forRoot(config, clock),
        MetricsModule,
        TerminusModule,
        RegionTrustModule,
        PersistenceModule,
        ReplicationModule,
        AuthModule,
        CatalogModule,
        StockModule,
        ReservationsModule,
        TransfersModule,
        CommandsModule.forConfig(config),
      ],
      controllers: [
        HealthHttpController,
        ClusterHttpController,
        ShardsHttpController,
        ListDeadLettersHttpController,
        ReplayDeadLetterHttpController,
      ],
      providers: [InternalListener, MetricsEndpoint, DeadLettersService],
    };
  }
}
