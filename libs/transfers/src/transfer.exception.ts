import { CodedException } from '@stockmesh/contracts';

export enum TransferErrorCode {
  NotFound = 'transfer-not-found',
  Conflict = 'transfer-conflict',
  KeyRequired = 'idempotency-key-required',
  WarehouseNotFound = 'warehouse-not-found',
  QuantityLimit = 'quantity-limit-exceeded',
  RegionUnavailable = 'region-unavailable',
  Busy = 'busy',
}

export class TransferException extends CodedException<`${TransferErrorCode}`> {
  constructor(code: TransferErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
  }
}
