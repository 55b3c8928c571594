import { Body, Controller, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { BODY_PROBLEMS, Origin, type RequestOrigin } from '@stockmesh/http';
import { ApiKeysService } from '../api-keys.service.js';
import { CreatedApiKeyView } from '../api-key.js';
import { ScopedOperation } from '../route-access.js';
import { CreateApiKeyRequest } from './create-api-key.request.dto.js';

@ApiTags('api-keys')
@Controller('v1/api-keys')
export class CreateApiKeyHttpController {
  constructor(private readonly keys: ApiKeysService) {}

  /**
   * Makes a key that works in every region once replicated. Not idempotent on purpose: a stored
   * answer would keep the secret; a retried request makes another key (revoke the spare one).
   */
  @Post()
  @ScopedOperation('admin', { operationId: 'createApiKey', summary: 'Make an API key', problems: [...BODY_PROBLEMS, 'unknown-channel'] })
  @ApiCreatedResponse({ type: CreatedApiKeyView, description: 'Made; `key` is shown only in this answer.' })
  create(@Body() body: CreateApiKeyRequest, @Origin() origin: RequestOrigin): Promise<CreatedApiKeyView> {
    return this.keys.create(body.name, body.scopes, body.channel ?? null, origin.requestId);
  }
}
