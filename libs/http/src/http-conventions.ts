import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { HEADERS } from '@stockmesh/contracts';
import { RouteTable } from './route-table.js';

/**
 * The wire conventions of every region: request bodies are JSON only, and every answer carries
 * its request id and names the region that produced it (`Stockmesh-Served-By`; a forwarded
 * answer keeps the owner's value). Returns the table of the routes registered from now on (call
 * it before the app is initialised), which tells a 405 from a 404.
 */
export function applyHttpConventions(app: NestFastifyApplication, regionId: string): RouteTable {
  const fastify = app.getHttpAdapter().getInstance();
  const routes = new RouteTable();
  fastify.addHook('onRoute', (route) => routes.add(route.method, route.url ?? route.path));
  // A route may accept larger bodies than the server's limit (`@RouteConfig({ bodyLimit })`, e.g.
  // the stock batch); never smaller ones, so STOCKMESH_BODY_LIMIT stays a floor for every route.
  fastify.addHook('onRoute', (route) => {
    const own = (route.config as { bodyLimit?: unknown } | undefined)?.bodyLimit;
    if (typeof own === 'number') route.bodyLimit = Math.max(own, fastify.initialConfig.bodyLimit ?? 0);
  });
  // Every body stockmesh accepts is JSON: without the text/plain parser, anything else is a 415.
  fastify.removeContentTypeParser(['text/plain']);
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader(HEADERS.servedBy)) void reply.header(HEADERS.servedBy, regionId);
    if (!reply.hasHeader(HEADERS.requestId)) void reply.header(HEADERS.requestId, String(request.id));
    return payload;
  });
  return routes;
}
