import { Inject, Injectable } from '@nestjs/common';
import { CatalogService } from '@stockmesh/catalog';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { COMMAND_TYPES } from '@stockmesh/contracts';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { StockService, type StockChangeView } from '@stockmesh/stock';
import { InvalidCommandError, type Command, type CommandMessageController } from '../command.js';
import type { AdjustStockCommand } from './adjust-stock.command.js';

/** `io.stockmesh.stock.adjust.v1`: adds or removes on-hand units, at the warehouse's owner. */
@Injectable()
export class AdjustStockMessageController implements CommandMessageController<AdjustStockCommand> {
  readonly type = COMMAND_TYPES.adjustStock;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly catalog: CatalogService,
    private readonly stock: StockService,
  ) {}

  async ownerOf(data: AdjustStockCommand): Promise<string> {
    const owner = await this.catalog.ownerOfWarehouse(data.warehouseId);
    // The owner always knows its own warehouses; another region may not know one registered
    // moments ago, before its catalog event arrived there.
    if (owner === undefined)
      throw new InvalidCommandError(`warehouse ${data.warehouseId} is not in the catalog of region ${this.config.region.id}`);
    return owner;
  }

  subjectOf(data: AdjustStockCommand): string {
    return `warehouses/${data.warehouseId}/stock/${data.sku}`;
  }

  async execute(command: Command<AdjustStockCommand>, idempotent: IdempotentRequest): Promise<StockChangeView> {
    const { warehouseId, sku, delta, reason } = command.data;
    const origin = { actor: command.source, requestId: command.correlationId };
    return (await this.stock.adjust({ warehouseId, sku }, delta, reason, origin, idempotent)).body;
  }
}
