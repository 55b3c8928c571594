import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { CodedException, PROBLEM_TYPES, TOPICS, type CommandType, type ProblemCode } from '@stockmesh/contracts';
import { problemBody, withTrace } from '@stockmesh/http';
import { MessageBus, type IncomingMessage } from '@stockmesh/messaging';
import { Metrics } from '@stockmesh/metrics';
import { IdempotencyRepository, ShardDatabases, type IdempotentRequest } from '@stockmesh/persistence';
import {
  deadLetter,
  DeadLetterReplayers,
  LazyPublisher,
  refusalReason,
  type DeadLetterReplayer,
  type ReplayResult,
} from '@stockmesh/replication';
import { commandResult, type CommandOutcome } from './command-results.js';
import { COMMAND_MESSAGE_CONTROLLERS, InvalidCommandError, type Command, type CommandMessageController } from './command.js';
import { parseCommand } from './parse-command.js';

/** Where a region remembers the ids of the commands it ran (the `idempotency_keys` scope). */
const COMMAND_ID_SCOPE = `kafka ${TOPICS.commands}`;
/** The stored status of a claimed command id whose result is not stored (yet): run it (again). */
const UNFINISHED = 0;

/** The consumer group of a region's command consumers, shared by all its instances (without the topic prefix). */
export function commandsGroupOf(regionId: string): string {
  return `stockmesh.commands.${regionId}`;
}

/** A valid command, its message controller, and the region owning its target. */
interface AdmittedCommand {
  readonly command: Command;
  readonly controller: CommandMessageController;
  readonly owner: string;
}

/**
 * Runs the commands of `stockmesh.commands.v1` that this region owns, once per command id, and
 * publishes what became of each to `stockmesh.command-results.v1`. Every region reads every
 * command (a consumer group each): the owner of the target acts, the others let it pass. A
 * record that is not a valid command, or whose target no region owns, is dead-lettered.
 *
 * Idempotency: the owner claims the command id in its home database's `idempotency_keys`
 * (scope `kafka stockmesh.commands.v1`, with a fingerprint of the type and data) before it runs
 * the command, and stores the result there once it ran. A command id seen before with the same
 * content answers the stored result again and changes nothing; with other content it is refused
 * (`command-id-reused`). The change itself is idempotent where it is made: a stock adjustment
 * stores the command id as its idempotency key in the transaction that changes the row (the
 * SKU's shard database, possibly another one than the claim's), and reservations are committed
 * or released by state. So a crash between the change and the stored result, followed by the
 * command's redelivery, runs it again without changing anything twice. Refusals are not stored,
 * as over HTTP: a refused command may be sent again with the same id.
 *
 * Results are published after the result is stored and before the consumer moves past the
 * command: a result can be published twice (the second with `replayed: true`), never not at all.
 */
@Injectable()
export class CommandProcessor implements OnApplicationShutdown, DeadLetterReplayer {
  private readonly logger = new Logger(CommandProcessor.name);
  private readonly controllers: ReadonlyMap<CommandType, CommandMessageController>;
  private readonly publisher: LazyPublisher;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(COMMAND_MESSAGE_CONTROLLERS) controllers: readonly CommandMessageController[],
    private readonly databases: ShardDatabases,
    private readonly idempotency: IdempotencyRepository,
    private readonly clock: Clock,
    bus: MessageBus,
    private readonly metrics: Metrics,
    replayers: DeadLetterReplayers,
  ) {
    this.controllers = new Map(controllers.map((c) => [c.type, c]));
    this.publisher = new LazyPublisher(bus);
    replayers.register(this);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.close();
  }

  /** The consumer group of this region's command consumers, which dead-letter as it. */
  get consumerGroup(): string {
    return commandsGroupOf(this.config.region.id);
  }

  /**
   * Handles one record of the command topic. Resolves once the result or dead letter is
   * published; rejects (and the record is read again) only when that, or the database, failed.
   */
  async process(message: IncomingMessage): Promise<void> {
    const admitted = await this.admit(message);
    if (typeof admitted === 'string') {
      this.logger.warn({ msg: 'dead-lettering a command', partition: message.partition, offset: message.offset, reason: admitted });
      await this.publisher.publish([deadLetter(message, admitted, this.consumerGroup)]);
      this.metrics.deadLettered('commands', 'invalid_command');
      return;
    }
    if (admitted.owner !== this.config.region.id) return;
    await this.answer(message, admitted);
  }

  /**
   * Runs a command this region dead-lettered again, as `process` would, but answers instead of
   * dead-lettering it once more. Once per command id, as always: a command that ran meanwhile
   * answers its stored result again and changes nothing. A command its owner refuses (e.g.
   * insufficient stock) publishes its rejected result, as any command, and is a refused replay:
   * nothing changed, and it may be replayed again once the cause is fixed.
   */
  async replay(original: IncomingMessage): Promise<ReplayResult> {
    const admitted = await this.admit(original);
    if (typeof admitted === 'string') return { outcome: 'refused', detail: admitted };
    const { command, controller, owner } = admitted;
    const subject = controller.subjectOf(command.data);
    if (owner !== this.config.region.id) {
      // Only its owner runs a command. Not recorded as applied: the owner may have dead-lettered
      // it too (a warehouse registered late), and then only a replay there runs it.
      return {
        outcome: 'refused',
        detail: `${subject} belongs to ${owner}: only ${owner} runs command ${command.id}; if its dead letters hold it too, replay it there`,
      };
    }
    const outcome = await this.answer(original, admitted);
    if (outcome.kind === 'rejected')
      return { outcome: 'refused', detail: `command ${command.id} rejected: ${outcome.problem.code}: ${outcome.problem.detail}` };
    return {
      outcome: 'applied',
      detail: outcome.replayed
        ? `command ${command.id} had run already: its result was answered again and nothing changed`
        : `command ${command.id} completed (${subject})`,
    };
  }

  /** The command and who runs it, or why the record is not a command any region can run. */
  private async admit(message: IncomingMessage): Promise<AdmittedCommand | string> {
    try {
      const command = parseCommand(message, this.config.http.bodyLimitBytes);
      const controller = this.controllerOf(command.type);
      const owner = await controller.ownerOf(command.data);
      if (!this.config.cluster.regions.some((r) => r.id === owner))
        throw new InvalidCommandError(`${controller.subjectOf(command.data)} belongs to region ${owner}, which is not in this cluster`);
      return { command, controller, owner };
    } catch (error) {
      if (!(error instanceof InvalidCommandError)) throw error;
      return error.reason;
    }
  }

  /** Runs a command this region owns and publishes its result. */
  private async answer(message: IncomingMessage, { command, controller }: AdmittedCommand): Promise<CommandOutcome> {
    const region = this.config.region.id;
    // The sender's trace (ce_traceparent) goes on to the log lines and the events the command causes.
    return withTrace(command.id, message.headers.ce_traceparent, async () => {
      const outcome = await this.run(controller, command);
      await this.publisher.publish([
        commandResult(command, controller.subjectOf(command.data), outcome, region, new Date(this.clock.now())),
      ]);
      this.logger.log({
        msg: `command ${outcome.kind}`,
        commandId: command.id,
        commandType: command.type,
        ...(outcome.kind === 'completed' ? { replayed: outcome.replayed } : { code: outcome.problem.code }),
      });
      return outcome;
    });
  }

  private async run(controller: CommandMessageController, command: Command): Promise<CommandOutcome> {
    const commandId: IdempotentRequest = { key: command.id, scope: COMMAND_ID_SCOPE, fingerprint: command.fingerprint };
    const claim = await this.databases.inDatabase(this.databases.home(), (tx) => this.idempotency.claim(tx, commandId));
    if (claim.outcome === 'mismatch')
      return this.rejected('command-id-reused', `command id ${command.id} was already used for another command`);
    if (claim.outcome === 'replay' && claim.status !== UNFINISHED)
      return { kind: 'completed', result: claim.body as object, replayed: true };
    try {
      // Its own scope: the shard database of the change may be the home database, which holds the claim.
      const result = await controller.execute(command, { ...commandId, scope: `${COMMAND_ID_SCOPE} ${command.type}` });
      await this.databases.inDatabase(this.databases.home(), (tx) => this.idempotency.complete(tx, commandId, 200, result));
      return { kind: 'completed', result, replayed: false };
    } catch (error) {
      // A refusal is an answer; so is data the database refuses (SQLSTATE classes 22 and 23),
      // which would be refused again on every retry and stall the command topic. Anything else (a
      // database or an owner that is down) is retried.
      if (error instanceof CodedException) {
        const code: ProblemCode = error.code;
        if (PROBLEM_TYPES[code].status < 500) return this.rejected(code, error.message, error.extensions);
      }
      const refused = refusalReason(error);
      if (refused !== undefined) return this.rejected('validation-failed', `the command cannot be applied: ${refused}`);
      throw error;
    }
  }

  private rejected(code: ProblemCode, detail: string, extensions: Readonly<Record<string, unknown>> = {}): CommandOutcome {
    return { kind: 'rejected', problem: problemBody(code, detail, extensions) };
  }

  private controllerOf(type: CommandType): CommandMessageController {
    const controller = this.controllers.get(type);
    if (!controller) throw new Error(`no message controller for ${type}`);
    return controller;
  }
}
