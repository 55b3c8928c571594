import { Module } from '@nestjs/common';
import { ReplicaChecks } from './anti-entropy/replica-checks.js';
import { ReplicaRepairService } from './anti-entropy/replica-repair.service.js';
import { RebuildReplicasHttpController } from './rebuild-replicas/rebuild-replicas.http.controller.js';
import { StockDigestApplier } from './anti-entropy/stock-digest.applier.js';
import { StockDigestPublisher } from './anti-entropy/stock-digest.publisher.js';
import { AdjustStockHttpController } from './adjust-stock/adjust-stock.http.controller.js';
import { BatchForwarder } from './batch-stock/batch-forwarder.js';
import { BatchStockHttpController } from './batch-stock/batch-stock.http.controller.js';
import { BatchStockService } from './batch-stock/batch-stock.service.js';
import { ListWarehouseStockHttpController } from './list-warehouse-stock/list-warehouse-stock.http.controller.js';
import { WarehouseStockService } from './list-warehouse-stock/warehouse-stock.service.js';
import { AvailabilityRepository } from './availability.repository.js';
import { AvailabilityService } from './availability.service.js';
import { GetAvailabilityHttpController } from './get-availability/get-availability.http.controller.js';
import { AvailabilityByRegionService } from './get-availability-by-region/availability-by-region.service.js';
import { GetAvailabilityByRegionHttpController } from './get-availability-by-region/get-availability-by-region.http.controller.js';
import { HoldExpirySweeper } from './holds/hold-expiry-sweeper.service.js';
import { HoldRetention } from './holds/hold-retention.js';
import { HoldRepository } from './holds/hold.repository.js';
import { HoldService } from './holds/hold.service.js';
import { HoldsInternalController } from './holds/holds.internal.controller.js';
import { QueryAvailabilityHttpController } from './query-availability/query-availability.http.controller.js';
import { StockEventApplier } from './stock-event.applier.js';
import { StockReplicaRepository } from './stock-replica.repository.js';
import { GetStockHttpController } from './get-stock/get-stock.http.controller.js';
import { ListMovementsHttpController } from './list-movements/list-movements.http.controller.js';
import { SetStockHttpController } from './set-stock/set-stock.http.controller.js';
import { IncomingStockHttpController } from './incoming-stock/incoming-stock.http.controller.js';
import { StockChangeOutbox } from './stock-change-outbox.js';
import { StockRepository } from './stock.repository.js';
import { StockService } from './stock.service.js';
import { TransferStockService } from './transfers/transfer-stock.service.js';

/**
 * Stock: the region's own warehouses (counts, adjustments, reads, the movement ledger, their
 * events) and global availability from its own rows and the replicas of everyone else's, kept
 * right by anti-entropy (digests of owners' rows, repairs from the state topic).
 */
@Module({
  controllers: [
    SetStockHttpController,
    AdjustStockHttpController,
    IncomingStockHttpController,
    GetStockHttpController,
    ListMovementsHttpController,
    QueryAvailabilityHttpController,
    GetAvailabilityHttpController,
    GetAvailabilityByRegionHttpController,
    HoldsInternalController,
    BatchStockHttpController,
    ListWarehouseStockHttpController,
    RebuildReplicasHttpController,
  ],
  providers: [
    StockRepository,
    StockChangeOutbox,
    StockService,
    StockReplicaRepository,
    StockEventApplier,
    AvailabilityRepository,
    AvailabilityService,
    AvailabilityByRegionService,
    HoldRepository,
    HoldService,
    HoldExpirySweeper,
    HoldRetention,
    TransferStockService,
    ReplicaChecks,
    ReplicaRepairService,
    StockDigestPublisher,
    StockDigestApplier,
    BatchStockService,
    BatchForwarder,
    WarehouseStockService,
  ],
  exports: [StockService, AvailabilityService, HoldService, TransferStockService, ReplicaChecks],
})
export class StockModule {}
