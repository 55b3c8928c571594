import type { ProblemCode } from '@stockmesh/contracts';

/**
 * The one mapping from the errors the HTTP stack raises about a bad request, by their `code`, to
 * problem codes. They reach us by three paths (see docs/errors.md), all of which look here:
 * - Fastify's router, before any hook runs: `frameworkErrors` (framework-errors.ts);
 * - Fastify's body parsing: the error handler Nest installs, then `ProblemDetailsFilter`;
 * - Node's HTTP parser and request timer, before Fastify sees a request: `clientErrorHandler`.
 */
const FRAMEWORK_ERROR_CODES: ReadonlyMap<string, ProblemCode> = new Map(
  Object.entries({
    // Fastify's router.
    FST_ERR_BAD_URL: 'malformed-request',
    FST_ERR_MAX_PARAM_LENGTH: 'uri-too-long',
    FST_ERR_NOT_FOUND: 'not-found',
    // Fastify's content-type parsing.
    FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed-json',
    FST_ERR_CTP_INVALID_JSON_BODY: 'malformed-json',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'malformed-request',
    // Node's HTTP server: headers or body not received within the request timeout.
    ERR_HTTP_REQUEST_TIMEOUT: 'request-timeout',
    // llhttp counts the request line into the header limit, so an over-long URL lands here too.
    HPE_HEADER_OVERFLOW: 'headers-too-large',
    HPE_CHUNK_EXTENSIONS_OVERFLOW: 'payload-too-large',
  } satisfies Record<string, ProblemCode>),
);

/** The problem code of an HTTP-stack error code, or `undefined` when it is not one of ours to map. */
export function frameworkProblemCode(code: string): ProblemCode | undefined {
  // Every other llhttp error (HPE_INVALID_CONTENT_LENGTH, HPE_INVALID_HEADER_TOKEN, ...) means the
  // bytes are not an HTTP request we can parse.
  return FRAMEWORK_ERROR_CODES.get(code) ?? (code.startsWith('HPE_') ? 'malformed-request' : undefined);
}
