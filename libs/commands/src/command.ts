import type { CommandType } from '@stockmesh/contracts';
import type { IdempotentRequest } from '@stockmesh/persistence';

/** A command that passed parsing and validation. */
export interface Command<D extends object = object> {
  /** `ce_id`: the command's idempotency key. */
  readonly id: string;
  readonly type: CommandType;
  /** `ce_source`: the system that sent it, recorded as the actor of what it changes. */
  readonly source: string;
  /** `ce_correlationid`, or else the command id: carried to the result and to the events of the change. */
  readonly correlationId: string;
  readonly data: D;
  /** A hash of the type and the data in canonical JSON: the same id with other content is refused. */
  readonly fingerprint: string;
}

/**
 * A record no region can act on: not a command, an unknown type, data failing validation, or a
 * target no region of the cluster owns. It goes to the dead-letter topic with `reason`.
 */
export class InvalidCommandError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'InvalidCommandError';
  }
}

/**
 * The message adapter of one command use case: who acts on the command, and running it through
 * the domain service the REST adapter of the same use case calls. Refusals are the domain's
 * `CodedException`s, as over HTTP.
 */
export interface CommandMessageController<D extends object = object> {
  readonly type: CommandType;
  /**
   * The region that acts on the command: the owner of what it changes. Throws
   * `InvalidCommandError` when no region of the cluster is known to own it.
   */
  ownerOf(data: D): Promise<string>;
  /** What the command is about, e.g. `warehouses/fra-1/stock/SKU-1`: the `ce_subject` of its result. */
  subjectOf(data: D): string;
  /**
   * Runs the command and answers what the REST API would. `idempotent` is the command's key for
   * the change itself, stored in the transaction that makes it, where there is one.
   */
  execute(command: Command<D>, idempotent: IdempotentRequest): Promise<object>;
}

/** Injection token of every command use case's message controller. */
export const COMMAND_MESSAGE_CONTROLLERS = Symbol('COMMAND_MESSAGE_CONTROLLERS');
