export { CatalogModule } from './catalog.module.js';
export { CatalogService } from './catalog.service.js';
export { CatalogErrorCode, CatalogException } from './catalog.exception.js';
export { WarehouseIdParams } from './warehouse-id.params.js';
export { WarehouseListView, WarehouseView } from './warehouse.js';
export { ChannelsService } from './channels.service.js';
export { ChannelListView, ChannelView } from './channel.js';
export { OptionalChannelField } from './channel-id.params.js';
