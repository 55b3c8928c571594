import { Body, Controller, Delete, Param, Post, Put } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { Idempotency, IDEMPOTENT_BODY_PROBLEMS, idempotentAnswer, Origin, RouteToOwner, type RequestOrigin } from '@stockmesh/http';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { StockService } from '../stock.service.js';
import { StockChangeView } from '../stock.views.js';
import { ExpectIncomingRequest, IncomingReceiptParams, ReceiveIncomingRequest } from './incoming-stock.request.dto.js';

/**
 * Incoming stock of a row: receipts (purchase orders, advance shipping notices) announced with
 * their expected day, then received (their units go on hand) or cancelled. Written at the
 * warehouse's region, like every change of a row, and replicated with the row.
 */
@ApiTags('stock')
@Controller('v1/warehouses/:warehouseId/stock/:sku/incoming/:receiptId')
export class IncomingStockHttpController {
  constructor(private readonly stock: StockService) {}

  /**
   * Announces units expected on a day under a receipt id, or changes what an open receipt expects
   * (asking twice with the same body leaves it the same). On-hand does not move; availability
   * shows the units by day (`incoming`). A missing row starts at 0 on hand.
   */
  @Put()
  @ScopedOperation('stock:write', {
    operationId: 'expectIncomingStock',
    summary: 'Announce (or change) an incoming receipt of a row',
    problems: [...IDEMPOTENT_BODY_PROBLEMS, 'warehouse-not-found', 'kit-not-stocked', 'incoming-limit-exceeded', 'incoming-promised'],
  })
  @RouteToOwner({ warehouseParam: 'warehouseId' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOkResponse({ type: StockChangeView })
  async expect(
    @Param() params: IncomingReceiptParams,
    @Body() body: ExpectIncomingRequest,
    @Origin() origin: RequestOrigin,
    @Idempotency() idempotent: IdempotentRequest | undefined,
  ): Promise<Response> {
    const { receiptId, ...key } = params;
    return idempotentAnswer(
      await this.stock.expectIncoming(key, { receiptId, quantity: body.quantity, expectedAt: body.expectedAt }, origin, idempotent),
    );
  }

  /** Cancels an open receipt: its units will not come. */
  @Delete()
  @ScopedOperation('stock:write', {
    operationId: 'cancelIncomingStock',
    summary: 'Cancel an incoming receipt of a row',
    problems: [
      ...IDEMPOTENT_BODY_PROBLEMS,
      'warehouse-not-found',
      'kit-not-stocked',
      'stock-not-found',
      'incoming-not-found',
      'incoming-promised',
    ],
  })
  @RouteToOwner({ warehouseParam: 'warehouseId' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOkResponse({ type: StockChangeView })
  @ApiNotFoundResponse({ description: 'stock-not-found: no such row; incoming-not-found: no such open receipt of the row.' })
  async cancel(
    @Param() params: IncomingReceiptParams,
    @Origin() origin: RequestOrigin,
    @Idempotency() idempotent: IdempotentRequest | undefined,
  ): Promise<Response> {
    const { receiptId, ...key } = params;
    return idempotentAnswer(await this.stock.cancelIncoming(key, receiptId, origin, idempotent));
  }

  /**
   * Receives units of an open receipt: they go on hand (a ledger `adjustment`, reason `received`)
   * and the receipt expects that many fewer; it closes when nothing more is expected, or with
   * `close`. Not idempotent by nature: send an Idempotency-Key to retry safely.
   */
  @Post('receive')
  @ScopedOperation('stock:write', {
    operationId: 'receiveIncomingStock',
    summary: 'Receive units of an incoming receipt',
    problems: [
      ...IDEMPOTENT_BODY_PROBLEMS,
      'warehouse-not-found',
      'kit-not-stocked',
      'stock-not-found',
      'incoming-not-found',
      'quantity-limit-exceeded',
      'incoming-promised',
      'busy',
    ],
  })
  @RouteToOwner({ warehouseParam: 'warehouseId' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiCreatedResponse({ type: StockChangeView })
  @ApiNotFoundResponse({ description: 'stock-not-found: no such row; incoming-not-found: no such open receipt of the row.' })
  @ApiConflictResponse({
    description:
      'quantity-limit-exceeded: on-hand would pass the most a row holds; incoming-promised: closing short would leave backorders unbacked; nothing changed.',
  })
  async receive(
    @Param() params: IncomingReceiptParams,
    @Body() body: ReceiveIncomingRequest,
    @Origin() origin: RequestOrigin,
    @Idempotency() idempotent: IdempotentRequest | undefined,
  ): Promise<Response> {
    const { receiptId, ...key } = params;
    return idempotentAnswer(await this.stock.receiveIncoming(key, receiptId, body.quantity, body.close ?? false, origin, idempotent));
  }
}
