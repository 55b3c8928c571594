export { CatalogModule } from './catalog.module.js';
export { CatalogService } from './catalog.service.js';
export { CatalogErrorCode, CatalogException } from './catalog.exception.js';
export { WarehouseIdParams } from './warehouse-id.params.js';
export { WarehouseListView, WarehouseView } from './warehouse.js';
