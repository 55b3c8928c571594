import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiKeysService } from '../api-keys.service.js';
import { ApiKeyListView } from '../api-key.js';
import { ScopedOperation } from '../route-access.js';

@ApiTags('api-keys')
@Controller('v1/api-keys')
export class ListApiKeysHttpController {
  constructor(private readonly keys: ApiKeysService) {}

  /** Every key this region knows (its own and, once replicated, every other region's), revoked ones too; never a secret. */
  @Get()
  @ScopedOperation('admin', { operationId: 'listApiKeys', summary: 'List the API keys' })
  @ApiOkResponse({ type: ApiKeyListView })
  async list(): Promise<ApiKeyListView> {
    return { items: await this.keys.list() };
  }
}
