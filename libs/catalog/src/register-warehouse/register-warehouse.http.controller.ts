import { Body, Controller, Param, Put } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ScopedOperation } from '@stockmesh/auth';
import { Idempotency, IDEMPOTENT_BODY_PROBLEMS, idempotentAnswer, Origin, RouteToOwner, type RequestOrigin } from '@stockmesh/http';
import type { IdempotentRequest } from '@stockmesh/persistence';
import { CatalogService } from '../catalog.service.js';
import { WarehouseView } from '../warehouse.js';
import { WarehouseIdParams } from '../warehouse-id.params.js';
import { RegisterWarehouseRequest } from './register-warehouse.request.dto.js';

@ApiTags('warehouses')
@Controller('v1/warehouses')
export class RegisterWarehouseHttpController {
  constructor(private readonly catalog: CatalogService) {}

  @Put(':warehouseId')
  @ScopedOperation('catalog:write', {
    operationId: 'registerWarehouse',
    summary: 'Register or rename a warehouse',
    problems: [...IDEMPOTENT_BODY_PROBLEMS, 'warehouse-region-conflict'],
  })
  @RouteToOwner({ regionBodyField: 'region' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiCreatedResponse({ type: WarehouseView, description: 'Registered.' })
  @ApiOkResponse({ type: WarehouseView, description: 'Already registered; name and position updated.' })
  @ApiConflictResponse({ description: 'The warehouse belongs to another region (warehouse-region-conflict).' })
  async register(
    @Param() params: WarehouseIdParams,
    @Body() body: RegisterWarehouseRequest,
    @Origin() origin: RequestOrigin,
    @Idempotency() idempotent: IdempotentRequest | undefined,
  ): Promise<Response> {
    const answer = await this.catalog.register(
      { id: params.warehouseId, region: body.region, name: body.name, latitude: body.latitude ?? null, longitude: body.longitude ?? null },
      origin.requestId,
      idempotent,
    );
    return idempotentAnswer(answer);
  }
}
