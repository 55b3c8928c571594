import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { HEADERS } from '@stockmesh/contracts';
import { attachCaller, callerOf, internalCallOf, setPrincipal, type RequestPrincipal } from '@stockmesh/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeysService } from './api-keys.service.js';
import { AuthErrorCode, AuthException } from './auth.exception.js';
import { exemptFromLimits, RateLimiter } from './rate-limit/rate-limiter.js';
import { ROUTE_ACCESS, type RouteAccess } from './route-access.js';

/** `Bearer <token>` (the scheme is case-insensitive, RFC 9110); the token printable ASCII without spaces. */
const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i;
const REALM = 'Bearer realm="stockmesh"';

/**
 * The global guard of every HTTP route: authenticates the `Authorization: Bearer <key>` header
 * and checks the scope the route declares with `@RequireScope`. A route that declares nothing is
 * refused (deny by default); `@PublicRoute` and `@InternalRoute` routes are let through.
 * Guards run before interceptors, so a request is checked where it arrives, before it is
 * forwarded to the owner. A forwarded request reaches the owner on its internal listener, signed
 * by the forwarding region with the caller's identity (`Stockmesh-Caller`): the owner takes that
 * identity instead of a key (a new key may not have replicated to it yet) and checks the scope
 * again. Only the internal listener marks a request as a signed region call.
 *
 * It also applies the rate limit, where the caller is known: per key once the key is verified,
 * per client address when it is not (so guessing keys is limited too). Public routes (health,
 * docs) and signed region calls are not limited: a forwarded request was charged where it arrived.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
    private readonly limiter: RateLimiter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Kafka commands are not HTTP requests: the broker's authentication and ACLs (issue 8) cover them.
    if (context.getType() !== 'http') return true;
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [context.getHandler(), context.getClass()]);
    if (access?.kind === 'public') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    // Internal routes answer signed region calls only (the public listener answers them 404).
    if (access?.kind === 'internal') return internalCallOf(request) !== undefined;
    const principal = internalCallOf(request) ? this.forwardedCaller(request) : await this.authenticateLimited(request, reply);
    setPrincipal(request, principal);
    // A request this region forwards carries who it is for, signed.
    attachCaller(request, { keyId: principal.id, name: principal.name, scopes: principal.scopes, channel: principal.channel });
    if (!access) {
      throw new AuthException(AuthErrorCode.InsufficientScope, 'this operation declares no scope, so no key may call it');
    }
    if (!principal.scopes.includes(access.scope) && !principal.scopes.includes('admin')) {
      void reply.header('www-authenticate', `${REALM}, error="insufficient_scope", scope="${access.scope}"`);
      throw new AuthException(AuthErrorCode.InsufficientScope, `this operation needs the ${access.scope} scope`, {
        scope: access.scope,
      });
    }
    return true;
  }

  /** The client a signed region call acts for; a forwarded /v1 call without one is refused. */
  private forwardedCaller(request: FastifyRequest): RequestPrincipal {
    const caller = callerOf(request);
    if (!caller) {
      throw new AuthException(AuthErrorCode.Unauthenticated, 'a forwarded request must name the client it acts for', {
        reason: 'missing-key',
      });
    }
    return {
      id: caller.keyId,
      name: caller.name,
      scopes: caller.scopes,
      ...(caller.channel === undefined ? {} : { channel: caller.channel }),
    };
  }

  /**
   * The caller's principal, once its bucket gave a token: the key's bucket, or, when the request
   * has no valid key, its address's (a 429 then comes instead of the 401).
   */
  private async authenticateLimited(request: FastifyRequest, reply: FastifyReply): Promise<RequestPrincipal> {
    let principal: RequestPrincipal;
    try {
      principal = await this.authenticate(request, reply);
    } catch (error) {
      if (error instanceof AuthException) this.charge(`address ${request.ip}`, reply);
      throw error;
    }
    if (!exemptFromLimits(this.config, principal)) this.charge(`key ${principal.id}`, reply);
    return principal;
  }

  private charge(caller: string, reply: FastifyReply): void {
    const taken = this.limiter.take(caller);
    if (taken.allowed) return;
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    void reply.header('retry-after', String(seconds));
    const who = caller.startsWith('key ') ? 'this API key' : 'this client address without a valid API key';
    throw new AuthException(AuthErrorCode.RateLimited, `${who} made more requests than its rate limit allows; retry in ${seconds} s`, {
      retryAfterSeconds: seconds,
      limit: { ratePerSecond: this.config.limits.ratePerSecond, burst: this.config.limits.burst },
    });
  }

  private async authenticate(request: FastifyRequest, reply: FastifyReply): Promise<RequestPrincipal> {
    const header = request.headers[HEADERS.authorization];
    if (header === undefined) {
      void reply.header('www-authenticate', REALM);
      throw new AuthException(AuthErrorCode.Unauthenticated, 'send an API key: Authorization: Bearer <key>', { reason: 'missing-key' });
    }
    const match = BEARER.exec(header);
    if (!match) {
      void reply.header('www-authenticate', `${REALM}, error="invalid_request"`);
      throw new AuthException(AuthErrorCode.Unauthenticated, 'the Authorization header must be Bearer <key>', { reason: 'malformed' });
    }
    try {
      return await this.keys.authenticate(match[1]);
    } catch (error) {
      if (error instanceof AuthException) void reply.header('www-authenticate', `${REALM}, error="invalid_token"`);
      throw error;
    }
  }
}
