export { isDestination, isSource, transferDispatchedEntry, transferReceivedEntry } from './transfer-events.js';
export { TransferErrorCode, TransferException } from './transfer.exception.js';
export { TransferView } from './transfer.views.js';
export { TransfersModule } from './transfers.module.js';
export { TransfersService, type NewTransfer } from './transfers.service.js';
