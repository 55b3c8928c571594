import { Body, Controller, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { Origin, type RequestOrigin } from '@stockmesh/http';
import { ApiKeysService } from '../api-keys.service.js';
import { CreatedApiKeyView } from '../api-key.js';
import { RequireScope } from '../route-access.js';
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
  @RequireScope('admin')
  @ApiCreatedResponse({ type: CreatedApiKeyView, description: 'Made; `key` is shown only in this answer.' })
  create(@Body() body: CreateApiKeyRequest, @Origin() origin: RequestOrigin): Promise<CreatedApiKeyView> {
    return this.keys.create(body.name, body.scopes, origin.requestId);
  }
}
