import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { HEADERS } from '@stockmesh/contracts';
import { attachCaller, callerOf, internalCallOf, setPrincipal, type RequestPrincipal } from '@stockmesh/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeysService } from './api-keys.service.js';
import { AuthErrorCode, AuthException } from './auth.exception.js';
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
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
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
    const principal = internalCallOf(request) ? this.forwardedCaller(request) : await this.authenticate(request, reply);
    setPrincipal(request, principal);
    // A request this region forwards carries who it is for, signed.
    attachCaller(request, { keyId: principal.id, name: principal.name, scopes: principal.scopes });
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
    return { id: caller.keyId, name: caller.name, scopes: caller.scopes };
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
