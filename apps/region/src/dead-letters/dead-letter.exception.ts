import { CodedException } from '@stockmesh/contracts';

export enum DeadLetterErrorCode {
  NotFound = 'dead-letter-not-found',
  Replayed = 'dead-letter-replayed',
  NotReplayable = 'dead-letter-not-replayable',
  ReplayRefused = 'dead-letter-replay-refused',
  NotReady = 'not-ready',
}

export class DeadLetterException extends CodedException<`${DeadLetterErrorCode}`> {
  constructor(code: DeadLetterErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
  }
}
