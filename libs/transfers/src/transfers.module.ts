import { Module } from '@nestjs/common';
import { StockModule } from '@stockmesh/stock';
import { CancelTransferHttpController } from './cancel-transfer/cancel-transfer.http.controller.js';
import { TransferReceivedApplier } from './complete-transfer/transfer-received.applier.js';
import { CreateTransferHttpController } from './create-transfer/create-transfer.http.controller.js';
import { ListTransfersHttpController } from './list-transfers/list-transfers.http.controller.js';
import { GetTransferHttpController } from './get-transfer/get-transfer.http.controller.js';
import { TransferDispatchedApplier } from './receive-transfer/transfer-dispatched.applier.js';
import { TransferDestinationClient } from './reconcile-transfers/transfer-destination.client.js';
import { TransferReconciler } from './reconcile-transfers/transfer-reconciler.service.js';
import { TransfersInternalController } from './reconcile-transfers/transfers.internal.controller.js';
import { TransferReceiptRetention } from './transfer-receipt-retention.js';
import { TransferRepository } from './transfer.repository.js';
import { TransfersService } from './transfers.service.js';

/** Transfers of stock between warehouses, within a region or across regions (exactly once). */
@Module({
  imports: [StockModule],
  controllers: [
    CreateTransferHttpController,
    ListTransfersHttpController,
    GetTransferHttpController,
    CancelTransferHttpController,
    TransfersInternalController,
  ],
  providers: [
    TransferRepository,
    TransfersService,
    TransferDispatchedApplier,
    TransferReceivedApplier,
    TransferDestinationClient,
    TransferReconciler,
    TransferReceiptRetention,
  ],
  exports: [TransfersService],
})
export class TransfersModule {}
