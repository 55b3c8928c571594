import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { KitSkuParams } from '../kit-sku.params.js';
import { KitView } from '../kit.js';
import { KitsService } from '../kits.service.js';

@ApiTags('kits')
@Controller('v1/kits/:sku')
export class GetKitHttpController {
  constructor(private readonly kits: KitsService) {}

  /** A kit as this region knows it (another region's, once replicated). */
  @Get()
  @ScopedOperation('stock:read', { operationId: 'getKit', summary: 'Get a kit', problems: ['validation-failed', 'kit-not-found'] })
  @ApiOkResponse({ type: KitView })
  get(@Param() params: KitSkuParams): Promise<KitView> {
    return this.kits.get(params.sku);
  }
}
