import { ValidationPipe, type ValidationError } from '@nestjs/common';
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
 * The one validation pipe: unknown fields are refused (not stripped), values are not coerced
 * (a quantity sent as "5" is an error, not 5), and errors become a `validation-failed` problem.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    stopAtFirstError: false,
    exceptionFactory: (errors) => new ValidationProblem(fieldErrors(errors)),
  });
}
