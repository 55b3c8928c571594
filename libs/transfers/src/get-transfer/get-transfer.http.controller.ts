import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { RouteToOwner } from '@stockmesh/http';
import { TransferIdParams } from '../transfer-id.params.js';
import { TransferView } from '../transfer.views.js';
import { TransfersService } from '../transfers.service.js';

@ApiTags('transfers')
@Controller('v1/transfers/:id')
export class GetTransferHttpController {
  constructor(private readonly transfers: TransfersService) {}

  /** Any region answers: the call is forwarded to the source region the id names. */
  @Get()
  @ScopedOperation('stock:read', {
    operationId: 'getTransfer',
    summary: 'Get a transfer',
    problems: ['validation-failed', 'transfer-not-found'],
  })
  @RouteToOwner({ transferParam: 'id' })
  @ApiOkResponse({ type: TransferView })
  @ApiNotFoundResponse({ description: 'transfer-not-found' })
  get(@Param() params: TransferIdParams): Promise<TransferView> {
    return this.transfers.get(params.id);
  }
}
