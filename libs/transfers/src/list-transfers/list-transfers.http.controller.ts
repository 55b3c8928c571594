import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { TransfersService } from '../transfers.service.js';
import { ListTransfersQuery } from './list-transfers.query.dto.js';
import { TransfersPageView } from './transfers-page.views.js';

@ApiTags('transfers')
@Controller('v1/transfers')
export class ListTransfersHttpController {
  constructor(private readonly transfers: TransfersService) {}

  /**
   * The transfers this region recorded (those whose source warehouse it owns), newest first, one
   * page at a time. Served from this region's own data, never forwarded: ask each region for its own.
   */
  @Get()
  @ScopedOperation('stock:read', {
    operationId: 'listTransfers',
    summary: 'Page through the transfers this region sent, newest first',
    problems: ['validation-failed'],
  })
  @ApiOkResponse({ type: TransfersPageView })
  list(@Query() query: ListTransfersQuery): Promise<TransfersPageView> {
    return this.transfers.page(query.status ?? null, query.limit, query.cursor);
  }
}
