import { Controller, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { Idempotency, IDEMPOTENT_BODY_PROBLEMS, idempotentAnswer, Origin, RouteToOwner, type RequestOrigin } from '@stockmesh/http';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { TransferIdParams } from '../transfer-id.params.js';
import { TransferView } from '../transfer.views.js';
import { TransfersService } from '../transfers.service.js';

@ApiTags('transfers')
@Controller('v1/transfers/:id/cancel')
export class CancelTransferHttpController {
  constructor(private readonly transfers: TransfersService) {}

  /**
   * Cancels a transfer its destination has not received: its units go back into the source row.
   * Served by the source region the id names (any region forwards it there), after asking the
   * destination's region. Idempotent.
   */
  @Post()
  @ScopedOperation('stock:write', {
    operationId: 'cancelTransfer',
    summary: 'Cancel a transfer',
    problems: [...IDEMPOTENT_BODY_PROBLEMS, 'transfer-not-found', 'transfer-conflict', 'quantity-limit-exceeded'],
  })
  @RouteToOwner({ transferParam: 'id' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Replays the first answer for the same key.' })
  @ApiOkResponse({ type: TransferView, description: '`cancelled`: the units are back in the source row.' })
  @ApiAcceptedResponse({
    type: TransferView,
    description: 'Still `pending`: cancelled at the destination, but the source row cannot take the units back yet; they return later.',
  })
  @ApiNotFoundResponse({ description: 'transfer-not-found' })
  @ApiConflictResponse({
    description:
      'transfer-conflict: the destination received the units first (the transfer is completed), or it ended otherwise (member `status`); quantity-limit-exceeded: the source row cannot take the units back now. Nothing changed by the cancel.',
  })
  async cancel(
    @Param() params: TransferIdParams,
    @Origin() origin: RequestOrigin,
    @Idempotency() idempotent: IdempotentRequest | undefined,
  ): Promise<Response> {
    return idempotentAnswer(await this.transfers.cancel(params.id, origin, idempotent));
  }
}
