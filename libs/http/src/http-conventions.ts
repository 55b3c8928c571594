import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { HEADERS } from '@stockmesh/contracts';

/**
 * The wire conventions of every region: request bodies are JSON only, and every answer carries
 * its request id and names the region that produced it (`Stockmesh-Served-By`; a forwarded
 * answer keeps the owner's value).
 */
export function applyHttpConventions(app: NestFastifyApplication, regionId: string): void {
  const fastify = app.getHttpAdapter().getInstance();
  // Every body stockmesh accepts is JSON: without the text/plain parser, anything else is a 415.
  fastify.removeContentTypeParser(['text/plain']);
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader(HEADERS.servedBy)) void reply.header(HEADERS.servedBy, regionId);
    if (!reply.hasHeader(HEADERS.requestId)) void reply.header(HEADERS.requestId, String(request.id));
    return payload;
  });
}
