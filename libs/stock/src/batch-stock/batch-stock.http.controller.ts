import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiExtension, ApiHeader, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import {
  IDEMPOTENT_BODY_PROBLEMS,
  callerOf,
  idempotencyScope,
  idempotentRequestOf,
  internalCallOf,
  Origin,
  principalIdOf,
  ValidationProblem,
  type RequestOrigin,
} from '@stockmesh/http';
import type { FastifyRequest } from 'fastify';
import { batchRowErrors } from './batch-rows.js';
import { BATCH_BODY_LIMIT_BYTES, BatchStockRequest, MAX_BATCH_ROWS } from './batch-stock.request.dto.js';
import { BatchStockService } from './batch-stock.service.js';
import { BatchStockResultView } from './batch-stock.views.js';

const ROUTE = '/v1/stock/batch';

@ApiTags('stock')
@Controller('v1/stock/batch')
export class BatchStockHttpController {
  constructor(private readonly batches: BatchStockService) {}

  /**
   * Counts and adjusts up to 1,000 rows of any warehouses in one request (an ERP's or WMS's
   * sync). Each row is applied, or refused, on its own; rows of other regions' warehouses are
   * forwarded to their owner.
   */
  @Post()
  @HttpCode(200)
  @ScopedOperation('stock:write', {
    operationId: 'applyStockBatch',
    summary: 'Set or adjust many stock rows',
    problems: [...IDEMPOTENT_BODY_PROBLEMS],
  })
  @RouteConfig({ bodyLimit: BATCH_BODY_LIMIT_BYTES })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Keys every row that has no idempotencyKey of its own: `<Idempotency-Key> <warehouseId>/<sku>`.',
  })
  @ApiExtension('x-max-rows', MAX_BATCH_ROWS)
  @ApiOkResponse({ type: BatchStockResultView, description: 'Every row succeeded (applied now or replayed).' })
  @ApiResponse({ status: 207, type: BatchStockResultView, description: 'At least one row failed; each failed row has a `problem`.' })
  async apply(@Body() body: BatchStockRequest, @Req() request: FastifyRequest, @Origin() origin: RequestOrigin): Promise<Response> {
    const errors = batchRowErrors(body.rows);
    if (errors.length > 0) throw new ValidationProblem(errors);
    const requestKey = idempotentRequestOf(request)?.key;
    const result = await this.batches.apply(body.rows, {
      origin,
      scope: idempotencyScope({ principal: principalIdOf(request), method: 'POST', route: ROUTE, params: {} }),
      requestKey,
      forwardedFrom: internalCallOf(request)?.forwardedFrom,
      caller: callerOf(request),
    });
    return new Response(JSON.stringify(result), {
      status: result.summary.failed === 0 ? 200 : 207,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
  }
}
