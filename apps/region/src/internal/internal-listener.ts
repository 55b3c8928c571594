import { Inject, Injectable } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { REGION_ONLY_HEADERS } from '@stockmesh/contracts';
import { markInternalCall, RegionRequestVerifier, RegionTrustException } from '@stockmesh/http';
import { createHash, type Hash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pipeline, Transform, type Readable } from 'node:stream';
import { MetricsEndpoint } from '../metrics/metrics-endpoint.js';
import { baseUrlOf, bind } from '../plain-server.js';
import { arrivedInternally, markArrivedInternally } from './arrived-internally.js';

/** The route prefix of the API only regions call. */
const INTERNAL_PREFIX = '/internal/';

/** The signed body digest of an internal call, and the hash of the bytes actually received. */
interface BodyCheck {
  readonly declared: string;
  readonly hash: Hash;
  readonly nonce: string;
}

/**
 * The region's second HTTP listener, for region-to-region calls only (holds, forwarded writes).
 * One Fastify instance and one Nest container serve both listeners, so both see the same
 * services; the listener a request arrived on decides what it may do:
 * - public: `/internal/...` routes are a 404, and the headers only regions may set
 *   (`Stockmesh-Forwarded-From`, the signature headers, the caller) are dropped before anything
 *   reads them;
 * - internal: every request must carry a valid region signature (401 otherwise), and its
 *   forwarding headers and caller are believed. The one exception is `GET /metrics`, answered
 *   by MetricsEndpoint before any of this, for Prometheus (docs/observability.md).
 */
@Injectable()
export class InternalListener {
  private server?: Server;
  private routing?: (request: IncomingMessage, response: ServerResponse) => void;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly verifier: RegionRequestVerifier,
    private readonly metrics: MetricsEndpoint,
  ) {}

  /** Installs the hooks that tell the listeners apart; call before the app is initialised. */
  attach(app: NestFastifyApplication): void {
    const fastify = app.getHttpAdapter().getInstance();
    this.routing = fastify.routing;
    const bodyChecks = new WeakMap<object, BodyCheck>();

    fastify.addHook('onRequest', async (request) => {
      if (!arrivedInternally(request.raw)) {
        for (const name of REGION_ONLY_HEADERS) delete request.raw.headers[name];
        // The matched route, not the URL text: `/%69nternal/...` is the same route.
        if (request.routeOptions.url?.startsWith(INTERNAL_PREFIX)) {
          throw new RegionTrustException('not-found', `Route ${request.method}:${request.url.split('?')[0]} not found`);
        }
        return;
      }
      const call = this.verifier.verify(request);
      bodyChecks.set(request.raw, { declared: call.contentSha256, hash: createHash('sha256'), nonce: call.nonce });
      markInternalCall(request, { region: call.region, forwardedFrom: call.forwardedFrom, caller: call.caller });
    });

    // Hashes the body bytes as the parser reads them, so the check covers exactly what was parsed.
    fastify.addHook('preParsing', async (request, _reply, payload) => {
      const check = bodyChecks.get(request.raw);
      if (!check) return payload;
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, done): void {
          check.hash.update(chunk);
          done(null, chunk);
        },
      });
      return pipeline(payload as Readable, hashing, () => undefined);
    });

    fastify.addHook('preValidation', async (request) => {
      const check = bodyChecks.get(request.raw);
      if (check && check.hash.digest('base64url') !== check.declared) {
        throw new RegionTrustException('region-unauthenticated', 'the body does not match its signed digest');
      }
    });

    // fetch() repeats a request answered 421 (misdirected) by itself: let that one retry meet the same 421.
    fastify.addHook('onResponse', async (request, reply) => {
      const check = bodyChecks.get(request.raw);
      if (check && reply.statusCode === 421) this.verifier.forgiveRetry(check.nonce);
    });

    // Stop taking region calls with the public listener, and let none outlive the app.
    fastify.addHook('preClose', async () => {
      this.server?.close();
      this.server?.closeIdleConnections();
    });
    fastify.addHook('onClose', async () => {
      this.server?.closeAllConnections();
      this.server = undefined;
    });
  }

  /** Binds the internal listener (default: the host and port of this region's configuration). */
  async listen(port = this.config.region.internal.port, host = this.config.region.internal.host): Promise<void> {
    const routing = this.routing;
    if (!routing) throw new Error('InternalListener.attach() must run before listen()');
    const server = createServer((request, response) => {
      // Prometheus cannot sign its scrapes: /metrics is answered before any check (docs/observability.md).
      if (this.metrics.answers(request, response)) return;
      markArrivedInternally(request);
      routing(request, response);
    });
    await bind(server, port, host);
    this.server = server;
  }

  /** The base URL it listens on (with the port actually bound, e.g. after `listen(0)`). */
  url(): string {
    return baseUrlOf(this.server, 'the internal listener');
  }
}
