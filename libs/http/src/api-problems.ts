import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { PROBLEM_TYPES, type ProblemCode } from '@stockmesh/contracts';

/** The media type of problem answers in the OpenAPI document (the filter adds `; charset=utf-8`). */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/**
 * The OpenAPI extension on a problem response that lists its codes, so that tools (the fuzz
 * suite, generated clients) can read them without parsing the description.
 */
export const PROBLEM_CODES_EXTENSION = 'x-problem-codes';

class FieldErrorView {
  @ApiProperty({ example: 'lines.0.quantity', description: 'Dotted path of the field; `body` for the body itself.' })
  readonly field!: string;
  @ApiProperty({ example: 'isInt', description: 'The rule that failed (`whitelistValidation` for an unknown field).' })
  readonly constraint!: string;
  @ApiProperty() readonly message!: string;
}

/**
 * An RFC 9457 problem details body, as `ProblemDetailsFilter` sends it (docs/errors.md). `code` is
 * a string rather than an enum on purpose: clients must treat a code they do not know by its
 * status, so that adding a code never breaks a generated client.
 */
@ApiSchema({
  name: 'Problem',
  description: 'RFC 9457 problem details; members beyond these carry facts about the refusal (docs/errors.md).',
})
export class ProblemView {
  @ApiProperty({ format: 'uri', example: 'https://stockmesh.dev/problems/insufficient-stock' }) readonly type!: string;
  @ApiProperty({ example: PROBLEM_TYPES['insufficient-stock'].title }) readonly title!: string;
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 409 }) readonly status!: number;
  @ApiProperty({ example: 'insufficient-stock', description: 'The stable code, the last segment of `type`.' }) readonly code!: string;
  @ApiPropertyOptional({ description: 'What went wrong in this request, for people (4xx only).' }) readonly detail?: string;
  @ApiPropertyOptional({ description: 'The path and query of the request.' }) readonly instance?: string;
  @ApiPropertyOptional({ description: 'The request id (as in X-Request-Id).' }) readonly requestId?: string;
  @ApiPropertyOptional({ type: [FieldErrorView], description: 'On validation-failed answers about fields: one entry per failed rule.' })
  readonly errors?: FieldErrorView[];
}

/** One `Problem` response per status, whatever its description. */
export function ApiProblemResponse(status: number, description: string, codes: readonly string[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemView),
    ApiResponse({
      status,
      description,
      content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: getSchemaPath(ProblemView) } } },
      ...(codes.length > 0 ? { [PROBLEM_CODES_EXTENSION]: codes } : {}),
    }),
  );
}

/**
 * Documents the problem answers an operation may give: one response per status, listing the
 * codes of `libs/contracts/src/problems.ts` it may carry, each with its title. The statuses come
 * from the codes, so the document cannot disagree with what the filter answers.
 */
export function ApiProblems(...codes: readonly ProblemCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of new Set(codes)) {
    const { status } = PROBLEM_TYPES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, group]) =>
      ApiProblemResponse(status, group.map((code) => `\`${code}\`: ${PROBLEM_TYPES[code].title}.`).join(' '), group),
    ),
  );
}

/**
 * What the HTTP server itself refuses before any route runs, whatever the route: bytes that are
 * not HTTP, a bad URL, headers over the limit. Documented on the operations that have no others.
 */
export const SERVER_PROBLEMS = ['malformed-request', 'headers-too-large'] as const satisfies readonly ProblemCode[];

/**
 * What every operation but a GET may be refused with before it runs, including those that take
 * no body: the server parses a body sent to any of them (JSON with a `__proto__` key, for one, is
 * refused as malformed-json whatever the route).
 */
export const BODY_PROBLEMS = [
  'validation-failed',
  'malformed-json',
  'payload-too-large',
  'unsupported-media-type',
] as const satisfies readonly ProblemCode[];

/** What an operation that honours an optional `Idempotency-Key` may be refused with. */
export const IDEMPOTENCY_PROBLEMS = ['idempotency-key-invalid', 'idempotency-key-reused'] as const satisfies readonly ProblemCode[];

/** What a write with a JSON body that honours an optional `Idempotency-Key` may be refused with. */
export const IDEMPOTENT_BODY_PROBLEMS = [...BODY_PROBLEMS, ...IDEMPOTENCY_PROBLEMS] as const satisfies readonly ProblemCode[];
