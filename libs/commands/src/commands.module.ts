import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@stockmesh/config';
import { TOPICS } from '@stockmesh/contracts';
import { ReservationsModule } from '@stockmesh/reservations';
import { StockModule } from '@stockmesh/stock';
import { AdjustStockMessageController } from './adjust-stock/adjust-stock.message.controller.js';
import { COMMAND_MESSAGE_CONTROLLERS, type CommandMessageController } from './command.js';
import { CommandProcessor } from './command-processor.service.js';
import { CommandsListener } from './commands-listener.service.js';
import { commandsMessageController } from './commands.message.controller.js';
import { CommitReservationMessageController } from './commit-reservation/commit-reservation.message.controller.js';
import { ReleaseReservationMessageController } from './release-reservation/release-reservation.message.controller.js';

const MESSAGE_CONTROLLERS = [AdjustStockMessageController, CommitReservationMessageController, ReleaseReservationMessageController];

/**
 * Commands from other systems through Kafka (`stockmesh.commands.v1`): stock adjustments and
 * reservation commits and releases, each run by the region owning its target, with a result
 * event per command. Consumed by Nest's Kafka transport, connected to the region's app by
 * `CommandsListener.connect` when replication is on.
 */
@Module({})
export class CommandsModule {
  static forConfig(config: AppConfig): DynamicModule {
    return {
      module: CommandsModule,
      imports: [StockModule, ReservationsModule],
      controllers: [commandsMessageController(config.kafka.topicPrefix, TOPICS.commands)],
      providers: [
        ...MESSAGE_CONTROLLERS,
        {
          provide: COMMAND_MESSAGE_CONTROLLERS,
          inject: MESSAGE_CONTROLLERS,
          useFactory: (...controllers: CommandMessageController[]): CommandMessageController[] => controllers,
        },
        CommandProcessor,
        CommandsListener,
      ],
      exports: [CommandsListener],
    };
  }
}
