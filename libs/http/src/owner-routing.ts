import {
  applyDecorators,
  Inject,
  Injectable,
  SetMetadata,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { APP_CONFIG, type AppConfig, type RegionConfig } from '@stockmesh/config';
import {
  CodedException,
  coordinatorOf,
  HEADERS,
  IDENTIFIER_PATTERN,
  RESERVATION_ID_PATTERN,
  sourceRegionOf,
  TRANSFER_ID_PATTERN,
} from '@stockmesh/contracts';
import type { FastifyRequest } from 'fastify';
import { from, switchMap, type Observable } from 'rxjs';
import { callerOf, internalCallOf } from './region-trust/internal-call.js';
import { RegionSigner } from './region-trust/region-signer.js';
import { ValidationProblem } from './validation.js';

/** Knows which region owns a warehouse; provided by the catalog. */
export abstract class OwnerDirectory {
  /** The id of the region that owns `warehouseId`, or `undefined` when this region does not know it. */
  abstract ownerOfWarehouse(warehouseId: string): Promise<string | undefined>;
}

/** Knows the sales channels (provided by the catalog), so that a key can be bound to one. */
export abstract class ChannelDirectory {
  /** Whether this region knows the channel (its own, or another region's once replicated). */
  abstract knowsChannel(channelId: string): Promise<boolean>;
}

type RoutingCode = 'warehouse-not-found' | 'reservation-not-found' | 'transfer-not-found' | 'misdirected-request' | 'region-unavailable';

export class RoutingException extends CodedException<RoutingCode> {
  constructor(code: RoutingCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
  }
}

/** How a route finds the region that owns what it changes. */
export type OwnerLocator =
  /** The owner of the warehouse named by a path parameter. */
  | { readonly warehouseParam: string }
  /** The region named by a body field (a warehouse registration names its region). */
  | { readonly regionBodyField: string }
  /** The region coordinating the reservation named by a path parameter (its id starts with it). */
  | { readonly reservationParam: string }
  /** The owner of the warehouse named by a body field (a transfer is served by its source's owner). */
  | { readonly warehouseBodyField: string }
  /** The region holding the transfer named by a path parameter (its id starts with it). */
  | { readonly transferParam: string };

const OWNER_LOCATOR = Symbol('OWNER_LOCATOR');

/**
 * Forwards requests for resources of other regions to their owner's internal listener, signed
 * as coming from this region and carrying the client's identity (the owner checks it again), so
 * a client may call any region. The owner's answer (status, body, `Idempotent-Replayed`,
 * `Stockmesh-Served-By`) is returned as it is. A forwarded request is never forwarded again: if
 * it reaches a region that does not own the resource, the catalogs disagree and the answer is 421.
 */
@Injectable()
export class RegionForwarder {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly signer: RegionSigner,
  ) {}

  async forward(request: FastifyRequest, owner: RegionConfig): Promise<Response> {
    const idempotencyKey = request.headers[HEADERS.idempotencyKey];
    const hasBody = request.body !== undefined && request.body !== null;
    const body = hasBody ? JSON.stringify(request.body) : undefined;
    let upstream: Response;
    let answerBody: ArrayBuffer;
    try {
      const url = new URL(request.url, owner.internal.url);
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...this.signer.headersFor(owner.id, request.method, url, body, {
          requestId: String(request.id),
          idempotencyKey: typeof idempotencyKey === 'string' ? idempotencyKey : undefined,
          forwarded: true,
          caller: callerOf(request),
        }),
      };
      if (hasBody) headers['content-type'] = 'application/json';
      upstream = await fetch(url, {
        method: request.method,
        headers,
        body,
        signal: AbortSignal.timeout(this.config.http.forwardTimeoutMs),
      });
      // Inside the try: an owner that dies while answering breaks the body, not the headers.
      answerBody = await upstream.arrayBuffer();
    } catch (error) {
      throw new RoutingException('region-unavailable', `region ${owner.id} did not answer: ${(error as Error).message}`, {
        region: owner.id,
      });
    }
    if (upstream.status === 401 && upstream.headers.get('content-type')?.startsWith('application/problem+json')) {
      // The owner did not take this region's signature (secrets differ, clocks too far apart): a
      // fault of the cluster, not of the client, who can do nothing but try later.
      const problem = JSON.parse(new TextDecoder().decode(answerBody)) as { code?: unknown };
      if (problem.code === 'region-unauthenticated') {
        throw new RoutingException('region-unavailable', `region ${owner.id} refused this region's signature`, { region: owner.id });
      }
    }
    const answer = new Headers();
    for (const name of ['content-type', HEADERS.idempotentReplayed, HEADERS.servedBy]) {
      const value = upstream.headers.get(name);
      if (value !== null) answer.set(name, value);
    }
    return new Response(answerBody, { status: upstream.status, headers: answer });
  }
}

@Injectable()
export class OwnerRoutingInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly directory: OwnerDirectory,
    private readonly forwarder: RegionForwarder,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const locator = this.reflector.get<OwnerLocator | undefined>(OWNER_LOCATOR, context.getHandler());
    if (!locator) return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return from(this.ownerOf(locator, request)).pipe(
      switchMap((owner) => {
        if (owner.id === this.config.region.id) return next.handle();
        // Only a signed call can say it was forwarded: the public listener drops the header.
        if (internalCallOf(request)?.forwardedFrom !== undefined) {
          throw new RoutingException(
            'misdirected-request',
            `region ${this.config.region.id} does not own this resource; ${owner.id} does`,
            {
              owner: owner.id,
            },
          );
        }
        return from(this.forwarder.forward(request, owner));
      }),
    );
  }

  private async ownerOf(locator: OwnerLocator, request: FastifyRequest): Promise<RegionConfig> {
    const self = this.config.region;
    if ('regionBodyField' in locator) {
      // Anything but a known other region is served here, where validation explains what is wrong.
      const named = (request.body as Record<string, unknown> | undefined)?.[locator.regionBodyField];
      return this.config.cluster.regions.find((r) => r.id === named) ?? self;
    }
    if ('reservationParam' in locator) {
      const id = (request.params as Record<string, string | undefined>)[locator.reservationParam] ?? '';
      const coordinator = RESERVATION_ID_PATTERN.test(id) ? this.config.cluster.regions.find((r) => r.id === coordinatorOf(id)) : undefined;
      if (!coordinator) throw new RoutingException('reservation-not-found', `no reservation ${id}`, { reservationId: id });
      return coordinator;
    }
    if ('transferParam' in locator) {
      const id = (request.params as Record<string, string | undefined>)[locator.transferParam] ?? '';
      const source = TRANSFER_ID_PATTERN.test(id) ? this.config.cluster.regions.find((r) => r.id === sourceRegionOf(id)) : undefined;
      if (!source) throw new RoutingException('transfer-not-found', `no transfer ${id}`, { transferId: id });
      return source;
    }
    if ('warehouseBodyField' in locator) {
      // A value that is not a warehouse id is served here, where validation explains what is wrong.
      const named = (request.body as Record<string, unknown> | undefined)?.[locator.warehouseBodyField];
      return typeof named === 'string' && IDENTIFIER_PATTERN.test(named) ? this.ownerOfWarehouse(named) : self;
    }
    const warehouseId = (request.params as Record<string, string | undefined>)[locator.warehouseParam] ?? '';
    if (!IDENTIFIER_PATTERN.test(warehouseId)) {
      throw new ValidationProblem([
        {
          field: locator.warehouseParam,
          constraint: 'matches',
          message: `${locator.warehouseParam} must match ${IDENTIFIER_PATTERN.source}`,
        },
      ]);
    }
    return this.ownerOfWarehouse(warehouseId);
  }

  private async ownerOfWarehouse(warehouseId: string): Promise<RegionConfig> {
    const ownerId = await this.directory.ownerOfWarehouse(warehouseId);
    if (ownerId === undefined)
      throw new RoutingException('warehouse-not-found', `warehouse ${warehouseId} is not registered`, { warehouseId });
    const owner = this.config.cluster.regions.find((r) => r.id === ownerId);
    if (!owner)
      throw new RoutingException(
        'region-unavailable',
        `warehouse ${warehouseId} belongs to region ${ownerId}, which is not in this cluster`,
      );
    return owner;
  }
}

/**
 * Serves the route in the region that owns what it touches, forwarding it there from any other
 * region. Runs before validation pipes: the owner validates forwarded requests.
 */
export function RouteToOwner(locator: OwnerLocator): MethodDecorator {
  return applyDecorators(SetMetadata(OWNER_LOCATOR, locator), UseInterceptors(OwnerRoutingInterceptor));
}
