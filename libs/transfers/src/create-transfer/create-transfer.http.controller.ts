import { Body, Controller, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiHeader, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { IDEMPOTENT_BODY_PROBLEMS, Idempotency, idempotentAnswer, Origin, RouteToOwner, type RequestOrigin } from '@stockmesh/http';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { TransferErrorCode, TransferException } from '../transfer.exception.js';
import { TransferView } from '../transfer.views.js';
import { TransfersService } from '../transfers.service.js';
import { CreateTransferRequest } from './create-transfer.request.dto.js';

@ApiTags('transfers')
@Controller('v1/transfers')
export class CreateTransferHttpController {
  constructor(private readonly transfers: TransfersService) {}

  /**
   * Moves units from one warehouse to another, in the same region or another. Served by the
   * source warehouse's owner (any region forwards it there).
   */
  @Post()
  @ScopedOperation('stock:write', {
    operationId: 'createTransfer',
    summary: 'Transfer stock between warehouses',
    problems: [
      ...IDEMPOTENT_BODY_PROBLEMS,
      'idempotency-key-required',
      'warehouse-not-found',
      'insufficient-stock',
      'quantity-limit-exceeded',
    ],
  })
  @RouteToOwner({ warehouseBodyField: 'fromWarehouseId' })
  @ApiHeader({ name: 'Idempotency-Key', required: true })
  @ApiCreatedResponse({ type: TransferView, description: '`completed` within one region, `pending` across regions.' })
  @ApiNotFoundResponse({ description: 'warehouse-not-found: the source or destination warehouse is not registered.' })
  @ApiConflictResponse({
    description:
      'insufficient-stock: fewer units are available (on-hand minus reserved) at the source; quantity-limit-exceeded: the destination would hold more than 1,000,000,000. Nothing changed.',
  })
  async create(
    @Body() body: CreateTransferRequest,
    @Origin() origin: RequestOrigin,
    @Idempotency() idempotent: IdempotentRequest | undefined,
  ): Promise<Response> {
    if (!idempotent) throw new TransferException(TransferErrorCode.KeyRequired, 'a transfer needs an Idempotency-Key header');
    const answer = await this.transfers.create(
      { sku: body.sku, fromWarehouseId: body.fromWarehouseId, toWarehouseId: body.toWarehouseId, quantity: body.quantity },
      origin,
      idempotent,
    );
    return idempotentAnswer(answer);
  }
}
