import { CodedException } from '@stockmesh/contracts';

export enum HoldErrorCode {
  Conflict = 'hold-conflict',
  NotFound = 'hold-not-found',
  /** A lock the step needed stayed taken too long: nothing changed; ask again. */
  Busy = 'busy',
}

export class HoldException extends CodedException<`${HoldErrorCode}`> {
  constructor(code: HoldErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
  }
}
