import { describe, expect, it } from '@jest/globals';
import { BadRequestException, HttpException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { classify } from './problem-details.filter.js';
import { ValidationProblem } from './validation.js';

describe('classify', () => {
  it('keeps the code and extensions of a coded exception', () => {
    const problem = new ValidationProblem([{ field: 'delta', constraint: 'isInt', message: 'delta must be an integer number' }]);
    expect(classify(problem)).toMatchObject({ code: 'validation-failed', status: 400, extensions: { errors: [{ field: 'delta' }] } });
  });

  it("maps Fastify's wrapped request errors by their code", () => {
    const tooLarge = new HttpException('Request body is too large', 413, {
      cause: Object.assign(new Error('too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' }),
    });
    expect(classify(tooLarge)).toMatchObject({ code: 'payload-too-large', status: 413 });
    const badJson = new HttpException('bad', 400, { cause: Object.assign(new Error('bad'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY' }) });
    expect(classify(badJson)).toMatchObject({ code: 'malformed-json', status: 400 });
    expect(classify(new BadRequestException('Object contains forbidden prototype property'))).toMatchObject({ code: 'malformed-json' });
  });

  it("maps the router's and Node's HTTP parser's errors by their code", () => {
    const paramTooLong = Object.assign(new URIError("'/x' is exceeding the max param length"), {
      code: 'FST_ERR_MAX_PARAM_LENGTH',
      statusCode: 414,
    });
    expect(classify(paramTooLong)).toMatchObject({ code: 'uri-too-long', status: 414 });
    expect(classify(Object.assign(new Error('Parse Error: Header overflow'), { code: 'HPE_HEADER_OVERFLOW' }))).toMatchObject({
      code: 'headers-too-large',
      status: 431,
    });
    expect(classify(Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }))).toMatchObject({
      code: 'request-timeout',
      status: 408,
    });
    // Any other parse error of llhttp: the bytes are not HTTP.
    expect(classify(Object.assign(new Error('Parse Error'), { code: 'HPE_INVALID_CHUNK_SIZE' }))).toMatchObject({
      code: 'malformed-request',
      status: 400,
    });
    // A code that is an Object.prototype member is not mistaken for a mapped one.
    expect(classify(Object.assign(new Error('x'), { code: 'constructor' }))).toMatchObject({ code: 'internal-error' });
  });

  it('maps plain HTTP exceptions by status', () => {
    expect(classify(new NotFoundException('Cannot GET /x'))).toMatchObject({ code: 'not-found', status: 404 });
    expect(classify(new ServiceUnavailableException({ status: 'error', details: { databases: { status: 'down' } } }))).toMatchObject({
      code: 'not-ready',
      status: 503,
      extensions: { checks: { status: 'error' } },
    });
  });

  it('answers 503 busy when no pooled connection came free, and 500 for anything unknown', () => {
    expect(classify(new Error('timeout exceeded when trying to connect'))).toMatchObject({ code: 'busy', status: 503 });
    expect(classify(new TypeError('x is undefined'))).toEqual({ code: 'internal-error', status: 500, extensions: {} });
  });
});

describe('classify, databases down', () => {
  it('answers 503 not-ready when a database refuses connections or is shutting down', () => {
    expect(classify(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toMatchObject({
      code: 'not-ready',
      status: 503,
    });
    expect(classify(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toMatchObject({
      code: 'not-ready',
      status: 503,
    });
  });
});

describe('classify, saturation', () => {
  it('answers 503 busy when PostgreSQL has no connection left', () => {
    expect(classify(Object.assign(new Error('sorry, too many clients already'), { code: '53300' }))).toMatchObject({
      code: 'busy',
      status: 503,
    });
  });

  it('answers 503 busy when a shard move refused the write (SMF01): the client asks again', () => {
    expect(classify(Object.assign(new Error('shard 9 is not written in this database now'), { code: 'SMF01' }))).toMatchObject({
      code: 'busy',
      status: 503,
      detail: 'the shard is moving to another database',
    });
  });
});
