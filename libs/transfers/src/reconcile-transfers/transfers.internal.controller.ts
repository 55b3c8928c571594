import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InternalRoute } from '@stockmesh/auth';
import { TransferData } from '@stockmesh/contracts';
import { TransferIdParams } from '../transfer-id.params.js';
import { TransferErrorCode, TransferException } from '../transfer.exception.js';
import type { ReceiptOutcome } from '../transfer.repository.js';
import { TransfersService } from '../transfers.service.js';

/**
 * The destination side of ending a transfer, called by the source's region when a transfer is
 * cancelled or overdue (region to region, not for storefronts; left out of the public OpenAPI
 * document). Idempotent by transfer id.
 */
@ApiExcludeController()
@InternalRoute()
@Controller('internal/v1/transfers/:id/resolve')
export class TransfersInternalController {
  constructor(private readonly transfers: TransfersService) {}

  /** `cancelled` if this region never received the transfer (and from now on never will), else its receipt's outcome. */
  @Post()
  @HttpCode(200)
  resolve(@Param() params: TransferIdParams, @Body() body: TransferData): Promise<{ outcome: ReceiptOutcome }> {
    if (body.transferId !== params.id) {
      throw new TransferException(TransferErrorCode.Conflict, `the body names transfer ${body.transferId}, the path ${params.id}`, {
        transferId: params.id,
      });
    }
    return this.transfers.resolveAsDestination(body);
  }
}
