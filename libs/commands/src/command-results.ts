import {
  EVENT_TYPES,
  newEvent,
  TOPICS,
  toKafkaRecord,
  type CommandCompletedData,
  type CommandRejectedData,
  type ProblemDetails,
} from '@stockmesh/contracts';
import type { OutgoingMessage } from '@stockmesh/messaging';
import type { Command } from './command.js';

/** What became of a command at the region that owns its target. */
export type CommandOutcome =
  | { readonly kind: 'completed'; readonly result: object; readonly replayed: boolean }
  | { readonly kind: 'rejected'; readonly problem: ProblemDetails };

/**
 * The result event of a command on `stockmesh.command-results.v1`, keyed by the command id so
 * that every result of one command lands on one partition: `io.stockmesh.command.completed.v1`
 * with what the REST API answers for the change, or `...rejected.v1` with its problem details.
 */
export function commandResult(
  command: Pick<Command, 'id' | 'type' | 'correlationId'>,
  subject: string,
  outcome: CommandOutcome,
  region: string,
  time: Date,
): OutgoingMessage {
  const about = { commandId: command.id, commandType: command.type, region };
  const envelope = { source: region, time: time.toISOString(), subject, correlationid: command.correlationId };
  const event =
    outcome.kind === 'completed'
      ? newEvent({
          ...envelope,
          type: EVENT_TYPES.commandCompleted,
          data: { ...about, replayed: outcome.replayed, result: outcome.result as Record<string, unknown> } satisfies CommandCompletedData,
        })
      : newEvent({
          ...envelope,
          type: EVENT_TYPES.commandRejected,
          data: { ...about, problem: outcome.problem } satisfies CommandRejectedData,
        });
  return { topic: TOPICS.commandResults, ...toKafkaRecord(event, command.id) };
}
