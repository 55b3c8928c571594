import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { PROBLEM_MEDIA_TYPE, problemBody } from '@stockmesh/http';
import type { FastifyReply } from 'fastify';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the page is served, on the public listener. */
export const DASHBOARD_PATH = '/dashboard/';

/**
 * What the page may load and call: its own script, style and API, nothing inline and nothing
 * from another origin, so an injected string in a figure (a warehouse name) cannot run, and a
 * script that did run could not send the key it reads elsewhere (connect-src 'self').
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The built page: `npm run build` compiles apps/dashboard/src into dist/apps/dashboard/src with its HTML and CSS, beside dist/apps/region. */
const BUILT_PAGE = fileURLToPath(new URL('../../../dashboard/src/', import.meta.url));

interface PageFile {
  readonly body: Buffer;
  readonly type: string;
}

/** The page's files (HTML, JS, CSS, SVG of one folder), read once: a handful of small files, never from a path a client names. */
export function readDashboardFiles(dir: string = BUILT_PAGE): ReadonlyMap<string, PageFile> {
  const files = new Map<string, PageFile>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    const type = CONTENT_TYPES[extname(name)];
    if (type) files.set(name, { body: readFileSync(join(dir, name)), type });
  }
  return files.has('index.html') ? files : new Map();
}

/**
 * Serves the dashboard's static files under /dashboard/ without a key: they hold no figure, only
 * the code that asks for a key and calls the API with it (docs/security.md, "The dashboard").
 * Plain routes over the files in memory rather than @fastify/static: a handful of fixed files need
 * no file-system lookups per request, and in-process tests (jest on Node 20) cannot load that plugin.
 * Returns false when the page was not built (an in-process test from sources): nothing is served.
 */
export function serveDashboard(app: NestFastifyApplication, files: ReadonlyMap<string, PageFile> = readDashboardFiles()): boolean {
  if (!files.has('index.html')) return false;
  const fastify = app.getHttpAdapter().getInstance();
  const send = (name: string, reply: FastifyReply): void => {
    const file = files.get(name);
    // Anything else under /dashboard/ is no file of the page (the route table would call it a 405).
    if (!file) {
      void reply
        .code(404)
        .header('content-type', `${PROBLEM_MEDIA_TYPE}; charset=utf-8`)
        .send(problemBody('not-found', `the dashboard has no file ${name}`));
      return;
    }
    void reply
      .header('content-type', file.type)
      .header('content-security-policy', DASHBOARD_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      // Small files that change with a deploy: revalidate rather than run an old script against a new API.
      .header('cache-control', 'no-cache')
      .send(file.body);
  };
  // Relative links of the page resolve under /dashboard/ only with the trailing slash.
  fastify.get(DASHBOARD_PATH.slice(0, -1), (_request, reply) => reply.redirect(DASHBOARD_PATH, 308));
  fastify.get(DASHBOARD_PATH, (_request, reply) => send('index.html', reply));
  fastify.get<{ Params: { file: string } }>(`${DASHBOARD_PATH}:file`, (request, reply) => send(request.params.file, reply));
  return true;
}
