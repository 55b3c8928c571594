import { Global, Module } from '@nestjs/common';
import { ChannelDirectory, HttpRoutingModule, OwnerDirectory } from '@stockmesh/http';
import { CatalogRepository } from './catalog.repository.js';
import { CatalogService } from './catalog.service.js';
import { ChannelEventApplier } from './channel-event.applier.js';
import { ChannelRepository } from './channel.repository.js';
import { ChannelsService } from './channels.service.js';
import { DefineChannelHttpController } from './define-channel/define-channel.http.controller.js';
import { GetChannelHttpController } from './get-channel/get-channel.http.controller.js';
import { ListChannelsHttpController } from './list-channels/list-channels.http.controller.js';
import { DefineKitHttpController } from './define-kit/define-kit.http.controller.js';
import { GetKitHttpController } from './get-kit/get-kit.http.controller.js';
import { KitEventApplier } from './kit-event.applier.js';
import { KitRepository } from './kit.repository.js';
import { KitsService } from './kits.service.js';
import { ListKitsHttpController } from './list-kits/list-kits.http.controller.js';
import { ListWarehousesHttpController } from './list-warehouses/list-warehouses.http.controller.js';
import { RegisterWarehouseHttpController } from './register-warehouse/register-warehouse.http.controller.js';
import { WarehouseEventApplier } from './warehouse-event.applier.js';

/**
 * The catalog: warehouses, sales channels and kits. Global because it is the `OwnerDirectory` every
 * owner-routed route consults, and availability and reservations resolve channels and kits through it.
 */
@Global()
@Module({
  imports: [HttpRoutingModule],
  controllers: [
    RegisterWarehouseHttpController,
    ListWarehousesHttpController,
    DefineChannelHttpController,
    ListChannelsHttpController,
    GetChannelHttpController,
    DefineKitHttpController,
    ListKitsHttpController,
    GetKitHttpController,
  ],
  providers: [
    CatalogRepository,
    CatalogService,
    WarehouseEventApplier,
    { provide: OwnerDirectory, useExisting: CatalogService },
    ChannelRepository,
    ChannelsService,
    { provide: ChannelDirectory, useExisting: ChannelsService },
    ChannelEventApplier,
    KitRepository,
    KitsService,
    KitEventApplier,
  ],
  exports: [CatalogService, ChannelsService, KitsService, OwnerDirectory, ChannelDirectory, HttpRoutingModule],
})
export class CatalogModule {}
