import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from './app-config.js';
import { Clock, systemClock } from './clock.js';

/**
 * Provides the already-validated `AppConfig` (under `APP_CONFIG`) and the `Clock` to every module.
 * The clock is the system's unless the caller brings one (tests move time instead of sleeping).
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, clock: Clock = systemClock): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: Clock, useValue: clock },
      ],
      exports: [APP_CONFIG, Clock],
    };
  }
}
