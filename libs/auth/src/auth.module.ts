import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyEventApplier } from './api-key-event.applier.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';
import { AuthGuard } from './auth.guard.js';
import { RateLimiter } from './rate-limit/rate-limiter.js';
import { CreateApiKeyHttpController } from './create-api-key/create-api-key.http.controller.js';
import { ListApiKeysHttpController } from './list-api-keys/list-api-keys.http.controller.js';
import { RevokeApiKeyHttpController } from './revoke-api-key/revoke-api-key.http.controller.js';

/**
 * API keys and the guard in front of every HTTP route. Global, and the guard an `APP_GUARD`, so
 * no controller can be added without passing through it.
 */
@Global()
@Module({
  controllers: [CreateApiKeyHttpController, ListApiKeysHttpController, RevokeApiKeyHttpController],
  providers: [ApiKeysRepository, ApiKeysService, ApiKeyEventApplier, RateLimiter, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [ApiKeysService, RateLimiter],
})
export class AuthModule {}
