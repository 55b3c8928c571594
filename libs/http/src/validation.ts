import { ValidationPipe, type ValidationError } from '@nestjs/common';
import type { ValidatorOptions } from 'class-validator';
import { CodedException, type FieldError } from '@stockmesh/contracts';

/** A request that failed validation; carries one entry per invalid field. */
export class ValidationProblem extends CodedException<'validation-failed'> {
  constructor(readonly errors: readonly FieldError[]) {
    super('validation-failed', errors.map((e) => e.message).join('; ') || 'the request is not valid', { errors });
  }
}

/** Flattens class-validator's tree into dotted field paths (`lines.0.quantity`). */
export function fieldErrors(errors: readonly ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => ({ field, constraint, message }));
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

/**
 * The validator options of every input, HTTP bodies and Kafka commands alike: unknown fields
 * are refused (not stripped) and every failed rule is reported. Instances are made with
 * `plainToInstance` without implicit conversion, so values are never coerced.
 */
export const INPUT_VALIDATION = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
  stopAtFirstError: false,
} as const satisfies ValidatorOptions;

/**
 * The one validation pipe: unknown fields are refused (not stripped), values are not coerced
 * (a quantity sent as "5" is an error, not 5), and errors become a `validation-failed` problem.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    ...INPUT_VALIDATION,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => new ValidationProblem(fieldErrors(errors)),
  });
}
