import { IsBoolean, IsObject, IsString, Length, Matches } from 'class-validator';
import type { ProblemDetails } from '../problems.js';

/**
 * The commands other systems send on `stockmesh.commands.v1` (the CloudEvents `ce_type`),
 * versioned like event types. Their `data` classes live beside the use case that runs them
 * (`libs/commands`), because they reuse the rules of the REST requests of the same use case.
 */
export const COMMAND_TYPES = {
  /** Add or remove on-hand units of a warehouse's SKU, e.g. goods received by a WMS. */
  adjustStock: 'io.stockmesh.stock.adjust.v1',
  /** The order was placed: the reservation's held units leave on-hand. */
  commitReservation: 'io.stockmesh.reservation.commit.v1',
  /** The order was cancelled: the reservation's held units return to available. */
  releaseReservation: 'io.stockmesh.reservation.release.v1',
} as const;

export type CommandType = (typeof COMMAND_TYPES)[keyof typeof COMMAND_TYPES];

/**
 * A command id (`ce_id`): the command's idempotency key, so it follows the `Idempotency-Key`
 * header's rule: 1-255 printable ASCII characters, no spaces (a UUID is the usual choice).
 */
export const COMMAND_ID_PATTERN = /^[\x21-\x7e]{1,255}$/;

const REGION = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** What every command result says about the command it answers. */
export class CommandResultData {
  @IsString() @Matches(COMMAND_ID_PATTERN) readonly commandId!: string;
  @IsString() @Length(1, 255) readonly commandType!: string;
  /** The region that acted on the command: the owner of its target. */
  @Matches(REGION) readonly region!: string;
}

/**
 * `io.stockmesh.command.completed.v1`: the owner of a command's target applied it. `result` is
 * what the REST API answers for the same change (the stock row with its ledger entry, or the
 * reservation).
 */
export class CommandCompletedData extends CommandResultData {
  /** `true` when the command id had been applied before: nothing changed again, this is the stored result. */
  @IsBoolean() readonly replayed!: boolean;
  @IsObject() readonly result!: Record<string, unknown>;
}

/**
 * `io.stockmesh.command.rejected.v1`: the owner of a command's target refused it; nothing
 * changed. `problem` is the RFC 9457 problem details body the REST API answers for the same
 * refusal (`code`, `detail` and the code's extension members).
 */
export class CommandRejectedData extends CommandResultData {
  @IsObject() readonly problem!: ProblemDetails;
}
