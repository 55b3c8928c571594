import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { CatalogService } from '../catalog.service.js';
import { WarehouseListView } from '../warehouse.js';

@ApiTags('warehouses')
@Controller('v1/warehouses')
export class ListWarehousesHttpController {
  constructor(private readonly catalog: CatalogService) {}

  /** Every warehouse this region knows: its own and, once replicated, every other region's. */
  @Get()
  @ScopedOperation('stock:read', { operationId: 'listWarehouses', summary: 'List the warehouses' })
  @ApiOkResponse({ type: WarehouseListView })
  async list(): Promise<WarehouseListView> {
    return { items: await this.catalog.list() };
  }
}
