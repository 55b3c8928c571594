import { Global, Module } from '@nestjs/common';
import { HttpRoutingModule, OwnerDirectory } from '@stockmesh/http';
import { CatalogRepository } from './catalog.repository.js';
import { CatalogService } from './catalog.service.js';
import { ListWarehousesHttpController } from './list-warehouses/list-warehouses.http.controller.js';
import { RegisterWarehouseHttpController } from './register-warehouse/register-warehouse.http.controller.js';
import { WarehouseEventApplier } from './warehouse-event.applier.js';

/**
 * The warehouse catalog. Global because it is the `OwnerDirectory` every owner-routed route
 * consults.
 */
@Global()
@Module({
  imports: [HttpRoutingModule],
  controllers: [RegisterWarehouseHttpController, ListWarehousesHttpController],
  providers: [CatalogRepository, CatalogService, WarehouseEventApplier, { provide: OwnerDirectory, useExisting: CatalogService }],
  exports: [CatalogService, OwnerDirectory, HttpRoutingModule],
})
export class CatalogModule {}
