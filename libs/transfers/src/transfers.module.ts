import { Module } from '@nestjs/common';
import { StockModule } from '@stockmesh/stock';
import { TransferReceivedApplier } from './complete-transfer/transfer-received.applier.js';
import { CreateTransferHttpController } from './create-transfer/create-transfer.http.controller.js';
import { GetTransferHttpController } from './get-transfer/get-transfer.http.controller.js';
import { TransferDispatchedApplier } from './receive-transfer/transfer-dispatched.applier.js';
import { TransferReceiptRetention } from './transfer-receipt-retention.js';
import { TransferRepository } from './transfer.repository.js';
import { TransfersService } from './transfers.service.js';

/** Transfers of stock between warehouses, within a region or across regions (exactly once). */
@Module({
  imports: [StockModule],
  controllers: [CreateTransferHttpController, GetTransferHttpController],
  providers: [TransferRepository, TransfersService, TransferDispatchedApplier, TransferReceivedApplier, TransferReceiptRetention],
  exports: [TransfersService],
})
export class TransfersModule {}
