import { CodedException } from '@stockmesh/contracts';

export enum StockErrorCode {
  Insufficient = 'insufficient-stock',
  QuantityLimit = 'quantity-limit-exceeded',
  NotFound = 'stock-not-found',
  IncomingNotFound = 'incoming-not-found',
  IncomingLimit = 'incoming-limit-exceeded',
  IncomingPromised = 'incoming-promised',
  NotReady = 'not-ready',
}

export class StockException extends CodedException<`${StockErrorCode}`> {
  constructor(code: StockErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
  }
}
