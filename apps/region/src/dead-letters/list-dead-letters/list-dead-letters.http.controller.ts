import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { DeadLettersService } from '../dead-letters.service.js';
import { DeadLettersView } from '../dead-letter.views.js';
import { ListDeadLettersQuery } from './list-dead-letters.query.dto.js';

@ApiTags('dead letters')
@Controller('v1/dead-letters')
export class ListDeadLettersHttpController {
  constructor(private readonly deadLetters: DeadLettersService) {}

  /** The records this region's consumers dead-lettered, newest first, read from the dead-letter topic. */
  @Get()
  @ScopedOperation('admin', {
    operationId: 'listDeadLetters',
    summary: 'List the dead letters of this region',
    problems: ['validation-failed', 'not-ready'],
  })
  @ApiOkResponse({ type: DeadLettersView })
  list(@Query() query: ListDeadLettersQuery): Promise<DeadLettersView> {
    return this.deadLetters.list(query.limit);
  }
}
