import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { BODY_PROBLEMS, Origin, type RequestOrigin } from '@stockmesh/http';
import { DeadLettersService } from '../dead-letters.service.js';
import { DeadLetterReplayedView } from '../dead-letter.views.js';
import { DeadLetterIdParams } from './dead-letter-id.params.js';

@ApiTags('dead letters')
@Controller('v1/dead-letters/:id/replay')
export class ReplayDeadLetterHttpController {
  constructor(private readonly deadLetters: DeadLettersService) {}

  /**
   * Runs a dead letter of this region again through the consumer that refused it, once the cause
   * is fixed. Applies once: a letter replayed already answers 409; one refused again answers 422
   * and changes nothing (it may be replayed later).
   */
  @Post()
  @HttpCode(200)
  @ScopedOperation('admin', {
    operationId: 'replayDeadLetter',
    summary: 'Replay a dead letter of this region',
    problems: [
      ...BODY_PROBLEMS,
      'dead-letter-not-found',
      'dead-letter-replayed',
      'dead-letter-not-replayable',
      'dead-letter-replay-refused',
      'not-ready',
    ],
  })
  @ApiOkResponse({ type: DeadLetterReplayedView })
  @ApiNotFoundResponse({ description: 'dead-letter-not-found: no such record, or not one this region’s consumers wrote.' })
  @ApiConflictResponse({ description: 'dead-letter-replayed: replayed already (members `replayedAt`, `detail`); nothing changed.' })
  @ApiUnprocessableEntityResponse({
    description:
      'dead-letter-replay-refused: refused again (member `reason`), nothing changed; dead-letter-not-replayable: its consumer cannot replay (member `reason`).',
  })
  replay(@Param() params: DeadLetterIdParams, @Origin() origin: RequestOrigin): Promise<DeadLetterReplayedView> {
    return this.deadLetters.replay(params.id, origin);
  }
}
