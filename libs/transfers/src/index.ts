export { isDestination, isSource, transferDispatchedEntry, transferReceivedEntry } from './transfer-events.js';
export { TransferErrorCode, TransferException } from './transfer.exception.js';
export { TransferView } from './transfer.views.js';
export { TransfersModule } from './transfers.module.js';
export { TransferReconciler } from './reconcile-transfers/transfer-reconciler.service.js';
export { MAX_RETURN_ATTEMPTS, TransfersService, type NewTransfer, type ReconcileReport } from './transfers.service.js';
