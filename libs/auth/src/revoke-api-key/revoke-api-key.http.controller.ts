import { Controller, Delete, HttpCode, Param } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { API_KEY_ID_PATTERN } from '@stockmesh/contracts';
import { BODY_PROBLEMS, Origin, type RequestOrigin } from '@stockmesh/http';
import { Matches } from 'class-validator';
import { ApiKeysService } from '../api-keys.service.js';
import { ScopedOperation } from '../route-access.js';

export class ApiKeyIdParams {
  @ApiProperty({ pattern: API_KEY_ID_PATTERN.source, example: '3f9a0c1e2b4d5e6f' })
  @Matches(API_KEY_ID_PATTERN, { message: 'id must be an API key id: 16 lower-case hex digits' })
  readonly id!: string;
}

@ApiTags('api-keys')
@Controller('v1/api-keys')
export class RevokeApiKeyHttpController {
  constructor(private readonly keys: ApiKeysService) {}

  /** Revokes a key in every region (through replication); revoking it again changes nothing. */
  @Delete(':id')
  @HttpCode(204)
  @ScopedOperation('admin', {
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    problems: [...BODY_PROBLEMS, 'api-key-not-found'],
  })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiNotFoundResponse({ description: 'This region knows no such key (api-key-not-found).' })
  async revoke(@Param() params: ApiKeyIdParams, @Origin() origin: RequestOrigin): Promise<void> {
    await this.keys.revoke(params.id, origin.requestId);
  }
}
