import { describe, expect, it } from '@jest/globals';
import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { systemClock, type AppConfig } from '@stockmesh/config';
import { principalOf, type RequestPrincipal } from '@stockmesh/http';
import type { FastifyRequest } from 'fastify';
import type { ApiKeysService } from './api-keys.service.js';
import { AuthException } from './auth.exception.js';
import { AuthGuard } from './auth.guard.js';
import { RateLimiter } from './rate-limit/rate-limiter.js';
import { PublicRoute, RequireScope } from './route-access.js';

@Controller('t')
class Routes {
  @Get('undeclared') undeclared(): void {}
  @Get('open') @PublicRoute() open(): void {}
  @Get('write') @RequireScope('stock:write') write(): void {}
}

const admin: RequestPrincipal = { id: 'a', name: 'admin', scopes: ['admin'] };
const reader: RequestPrincipal = { id: 'r', name: 'reader', scopes: ['stock:read'] };
/** Knows one key per principal, by the principal's id. */
const keys = {
  authenticate: async (key: string): Promise<RequestPrincipal> => {
    const found = [admin, reader].find((p) => p.id === key);
    if (!found) throw new Error('unknown key');
    return found;
  },
} as unknown as ApiKeysService;

function context(
  handler: keyof Routes,
  authorization?: string,
  type = 'http',
): { ctx: ExecutionContext; request: FastifyRequest; headers: Record<string, string> } {
  // `raw` is Node's request, which the region-trust helpers key their records by.
  const request = { raw: {}, headers: authorization === undefined ? {} : { authorization } } as unknown as FastifyRequest;
  const headers: Record<string, string> = {};
  const reply = { header: (name: string, value: string) => (headers[name] = value) };
  const ctx = {
    getType: () => type,
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }),
  } as unknown as ExecutionContext;
  return { ctx, request, headers };
}

// Limits far above what these cases send (rate-limit.spec.ts and test/integration/limits.spec.ts test them).
const config = { limits: { ratePerSecond: 1_000, burst: 1_000, exemptAdmin: false } } as AppConfig;
const guard = new AuthGuard(new Reflector(), keys, new RateLimiter(config, systemClock), config);
const refusal = async (ctx: ExecutionContext): Promise<AuthException> => {
  try {
    await guard.canActivate(ctx);
  } catch (error) {
    if (error instanceof AuthException) return error;
    throw error;
  }
  throw new Error('let through');
};

describe('AuthGuard', () => {
  it('refuses a route that declares no scope, even to an admin key (deny by default)', async () => {
    const { ctx, request } = context('undeclared', 'Bearer a');
    expect((await refusal(ctx)).code).toBe('insufficient-scope');
    expect(principalOf(request)).toEqual(admin);
  });

  it('lets anyone reach a public route, and any Kafka handler', async () => {
    expect(await guard.canActivate(context('open').ctx)).toBe(true);
    expect(await guard.canActivate(context('undeclared', undefined, 'rpc').ctx)).toBe(true);
  });

  it('checks the declared scope; admin has every scope', async () => {
    expect(await guard.canActivate(context('write', 'Bearer a').ctx)).toBe(true);
    const { ctx, headers } = context('write', 'Bearer r');
    expect(await refusal(ctx)).toMatchObject({ code: 'insufficient-scope', extensions: { scope: 'stock:write' } });
    expect(headers['www-authenticate']).toBe('Bearer realm="stockmesh", error="insufficient_scope", scope="stock:write"');
  });

  it('asks for a key when there is none', async () => {
    const { ctx, headers } = context('write');
    expect((await refusal(ctx)).code).toBe('unauthenticated');
    expect(headers['www-authenticate']).toBe('Bearer realm="stockmesh"');
  });
});
