import { Injectable } from '@nestjs/common';
import type { SqlTx } from '@stockmesh/persistence';

/** Where a dead letter is in the dead-letter topic: its name. */
export interface DeadLetterPlace {
  readonly partition: number;
  readonly offset: bigint;
}

/** One replay of a dead letter, as recorded. */
export interface DeadLetterReplayRecord extends DeadLetterPlace {
  readonly consumer: string;
  readonly outcome: 'applied' | 'refused';
  readonly detail: string;
  readonly actor: string;
  readonly requestId: string | null;
  readonly replayedAt: Date;
}

interface ReplayRow {
  letter_partition: number;
  letter_offset: string;
  consumer: string;
  outcome: 'applied' | 'refused';
  detail: string;
  actor: string;
  request_id: string | null;
  replayed_at: Date;
}

const toRecord = (r: ReplayRow): DeadLetterReplayRecord => ({
  partition: r.letter_partition,
  offset: BigInt(r.letter_offset),
  consumer: r.consumer,
  outcome: r.outcome,
  detail: r.detail,
  actor: r.actor,
  requestId: r.request_id,
  replayedAt: r.replayed_at,
});

/** The `dead_letter_replays` table of the home database: every replay an operator asked for. */
@Injectable()
export class DeadLetterReplaysRepository {
  /**
   * Records a replay. Resolves `false`, recording nothing, when it is `applied` and another
   * applied replay of the letter is recorded already (a concurrent replay won): the unique index
   * `dead_letter_replays_applied_once` decides, so a letter is recorded applied once whatever races.
   */
  async record(tx: SqlTx, replay: Omit<DeadLetterReplayRecord, 'replayedAt'>): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO dead_letter_replays (letter_partition, letter_offset, consumer, outcome, detail, actor, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (letter_partition, letter_offset) WHERE outcome = 'applied' DO NOTHING RETURNING 1 AS recorded`,
      [replay.partition, replay.offset.toString(), replay.consumer, replay.outcome, replay.detail, replay.actor, replay.requestId],
    );
    return rows.length === 1;
  }

  /** Per letter asked about, its applied replay if there is one, else its latest refused one. */
  async latest(tx: SqlTx, letters: readonly DeadLetterPlace[]): Promise<Map<string, DeadLetterReplayRecord>> {
    if (letters.length === 0) return new Map();
    const rows = await tx.query<ReplayRow>(
      `SELECT DISTINCT ON (r.letter_partition, r.letter_offset)
              r.letter_partition, r.letter_offset, r.consumer, r.outcome, r.detail, r.actor, r.request_id, r.replayed_at
       FROM dead_letter_replays r
       JOIN unnest($1::int[], $2::bigint[]) AS l(partition, "offset") ON r.letter_partition = l.partition AND r.letter_offset = l."offset"
       ORDER BY r.letter_partition, r.letter_offset, (r.outcome = 'applied') DESC, r.seq DESC`,
      [letters.map((l) => l.partition), letters.map((l) => l.offset.toString())],
    );
    return new Map(rows.map((r) => [`${r.letter_partition}:${r.letter_offset}`, toRecord(r)]));
  }
}
