import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { KitListView } from '../kit.js';
import { KitsService } from '../kits.service.js';

@ApiTags('kits')
@Controller('v1/kits')
export class ListKitsHttpController {
  constructor(private readonly kits: KitsService) {}

  /** Every kit this region knows: its own and, once replicated, every other region's. */
  @Get()
  @ScopedOperation('stock:read', { operationId: 'listKits', summary: 'List the kits' })
  @ApiOkResponse({ type: KitListView })
  async list(): Promise<KitListView> {
    return { items: await this.kits.list() };
  }
}
