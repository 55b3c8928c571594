export { applyChange, type AppliedChange, type StockChange, type StockLevel } from './stock-level.js';
export { StockErrorCode, StockException } from './stock.exception.js';
export { StockModule } from './stock.module.js';
export type { StockKey } from './stock.repository.js';
export { StockService } from './stock.service.js';
export { MovementPageView, MovementView, StockChangeView, StockView } from './stock.views.js';
export { AvailabilityService } from './availability.service.js';
export { AvailabilityListView, AvailabilityView, RegionFreshnessView, WarehouseAvailabilityView } from './availability.views.js';
export { MAX_SKUS_PER_QUERY } from './query-availability/query-availability.request.dto.js';
