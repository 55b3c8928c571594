import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from './app-config.js';
import { Clock, systemClock } from './clock.js';
import { ClusterSecretReloader } from './cluster-secret-reloader.js';

/**
 * Provides the already-validated `AppConfig` (under `APP_CONFIG`) and the `Clock` to every module.
 * The clock is the system's unless the caller brings one (tests move time instead of sleeping).
 * The cluster secret's file, when it has one, is re-read as it changes (ClusterSecretReloader).
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, clock: Clock = systemClock): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }, { provide: Clock, useValue: clock }, ClusterSecretReloader],
      exports: [APP_CONFIG, Clock],
    };
  }
}
