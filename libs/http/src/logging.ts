import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger } from 'pino';
import { requestIdMixin } from './request-log-context.js';

/**
 * The process's one pino logger: JSON lines on stdout (or `destination`), every line tagged with
 * the region, and with the request id (`reqId`) when written while serving a request (see
 * `scopeRequests`). Fastify logs each request through it; Nest logs through `NestPinoLogger`.
 */
export function createLogger(options: { level: string; region: string; instance?: string }, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      // `instance` (`us-east/2`) tells apart the processes of a region that runs several; a
      // re-forked worker keeps its instance and gets a new pid.
      base: { region: options.region, ...(options.instance === undefined ? {} : { instance: options.instance }), pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      mixin: requestIdMixin,
    },
    destination,
  );
}

/** Nest's logger interface on top of pino, so framework and app messages are JSON lines too. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.write('info', message, context);
  }

  error(message: unknown, stackOrContext?: string, context?: string): void {
    // Nest passes (message, stack, context), or (message, context) when there is no stack.
    const ctx = context ?? stackOrContext;
    const stack = context !== undefined ? stackOrContext : undefined;
    this.write('error', message, ctx, stack);
  }

  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }

  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }

  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }

  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }

  private write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', message: unknown, context?: string, stack?: string): void {
    if (message instanceof Error) {
      this.logger[level]({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ context, ...(message as Record<string, unknown>), ...(stack ? { stack } : {}) });
    } else {
      this.logger[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
