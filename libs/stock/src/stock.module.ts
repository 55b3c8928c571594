import { Module } from '@nestjs/common';
import { AdjustStockHttpController } from './adjust-stock/adjust-stock.http.controller.js';
import { GetStockHttpController } from './get-stock/get-stock.http.controller.js';
import { ListMovementsHttpController } from './list-movements/list-movements.http.controller.js';
import { SetStockHttpController } from './set-stock/set-stock.http.controller.js';
import { StockRepository } from './stock.repository.js';
import { StockService } from './stock.service.js';

/** Stock of the region's own warehouses: counts, adjustments, reads and the movement ledger. */
@Module({
  controllers: [SetStockHttpController, AdjustStockHttpController, GetStockHttpController, ListMovementsHttpController],
  providers: [StockRepository, StockService],
  exports: [StockService],
})
export class StockModule {}
