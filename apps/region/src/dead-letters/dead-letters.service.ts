import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import type { RequestOrigin } from '@stockmesh/http';
import type { IncomingMessage } from '@stockmesh/messaging';
import { TOPICS } from '@stockmesh/contracts';
import { Metrics, type DeadLetterConsumer } from '@stockmesh/metrics';
import { ShardDatabases } from '@stockmesh/persistence';
import { DeadLetterLog, DeadLetterReplayers, DeadLetterReplaysRepository, type DeadLetterReplayRecord } from '@stockmesh/replication';
import { DeadLetterErrorCode, DeadLetterException } from './dead-letter.exception.js';
import type { DeadLetterReplayedView, DeadLetterReplayView, DeadLetterView, DeadLettersView } from './dead-letter.views.js';

/**
 * Records read per partition of the dead-letter topic to list this region's letters: the newest
 * ones, whoever wrote them (every region writes there). Bounds the cost of a listing; older
 * letters are in the topic still (30 days) for any Kafka client.
 */
export const DEAD_LETTER_SCAN = 10_000;
/** Characters of a letter's value shown in a listing. */
const PREVIEW_CHARS = 512;
/** Kept free at the end of the command-id retention, so a replay that takes a while still runs inside it. */
const COMMAND_REPLAY_MARGIN_MS = 3_600_000;
/** How long reading the topic may take before the request gives up (a consumer group joins first). */
const READ_DEADLINE_MS = 30_000;

/** Why a consumer's letters are not replayed, by kind of consumer. */
const NOT_REPLAYABLE: Readonly<Partial<Record<DeadLetterConsumer, string>>> = {
  digests:
    'a digest is compared with the replica as it was when the digest was taken; an old one would report differences that are not there, and the next interval brings a new one',
};

/**
 * Whether a command dead-lettered at `deadLetteredAt` is still within the time its id is
 * remembered (`retentionMs`, STOCKMESH_IDEMPOTENCY_RETENTION_HOURS), less a margin so that a
 * replay that takes a while still runs inside it: only then can a replay not run it twice.
 */
export function commandStillRemembered(deadLetteredAt: number, now: number, retentionMs: number): boolean {
  return now - deadLetteredAt <= retentionMs - COMMAND_REPLAY_MARGIN_MS;
}

/** A parsed letter: where it is, who wrote it, and the record as its consumer had read it. */
interface Letter {
  readonly partition: number;
  readonly offset: bigint;
  readonly consumer: string;
  readonly kind: DeadLetterConsumer;
  readonly original: IncomingMessage;
  readonly record: IncomingMessage;
}

/**
 * Dead letters for operators: lists those this region's consumers wrote, straight from the
 * dead-letter topic, and replays one through the consumer that wrote it (its `DeadLetterReplayer`:
 * the replicator for events, the command processor for commands), never by publishing it again
 * (a republished event would reach every region's consumers, and say it comes from a region that
 * did not send it again). Each replay is recorded in the home database (`dead_letter_replays`),
 * at most one of them applied per letter; applying itself is idempotent in the consumers, so
 * even a replay whose record was lost (a crash between the two) applies nothing twice.
 */
@Injectable()
export class DeadLettersService {
  private readonly logger = new Logger(DeadLettersService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly log: DeadLetterLog,
    private readonly replayers: DeadLetterReplayers,
    private readonly replays: DeadLetterReplaysRepository,
    private readonly databases: ShardDatabases,
    private readonly metrics: Metrics,
  ) {}

  async list(limit: number): Promise<DeadLettersView> {
    this.refuseWithoutReplication();
    const bounds = await this.log.bounds();
    const ranges = bounds.map((b) => {
      const from = b.high - BigInt(DEAD_LETTER_SCAN) > b.low ? b.high - BigInt(DEAD_LETTER_SCAN) : b.low;
      return { partition: b.partition, from, to: b.high };
    });
    const records = await this.read(ranges);
    const letters = records
      .map((r) => this.letterOf(r))
      .filter((l): l is Letter => l !== undefined)
      .sort((a, b) => (a.offset === b.offset ? b.partition - a.partition : a.offset > b.offset ? -1 : 1))
      .slice(0, limit);
    const replays = await this.databases.read(this.databases.home(), (tx) => this.replays.latest(tx, letters));
    return {
      region: this.config.region.id,
      items: letters.map((l) => this.view(l, replays.get(`${l.partition}:${l.offset}`))),
      scanned: records.length,
      truncated: ranges.some((r, i) => r.from > bounds[i].low),
    };
  }

  async replay(id: string, origin: RequestOrigin): Promise<DeadLetterReplayedView> {
    this.refuseWithoutReplication();
    const letter = await this.find(id);
    const replayer = this.replayers.find(letter.consumer);
    const notReplayable = this.notReplayableBecause(letter);
    if (replayer === undefined || notReplayable !== undefined) {
      this.metrics.deadLetterReplayed(letter.kind, 'not_replayable');
      const reason = notReplayable ?? `no consumer of this region replays ${letter.consumer}'s letters`;
      throw new DeadLetterException(DeadLetterErrorCode.NotReplayable, `dead letter ${id} cannot be replayed: ${reason}`, { id, reason });
    }
    const home = this.databases.home();
    const before = (await this.databases.read(home, (tx) => this.replays.latest(tx, [letter]))).get(id);
    if (before?.outcome === 'applied') throw this.replayedAlready(letter, before);
    const result = await replayer.replay(letter.original);
    const replay = { partition: letter.partition, offset: letter.offset, consumer: letter.consumer, ...result, ...origin };
    const recorded = await this.databases.inDatabase(home, (tx) => this.replays.record(tx, replay));
    if (!recorded) {
      // A concurrent replay applied and recorded it first; this one applied nothing more (the
      // consumers are idempotent) and says so.
      const winner = (await this.databases.read(home, (tx) => this.replays.latest(tx, [letter]))).get(id);
      throw this.replayedAlready(letter, winner);
    }
    this.metrics.deadLetterReplayed(letter.kind, result.outcome);
    this.logger.log({ msg: 'dead letter replayed', id, consumer: letter.consumer, outcome: result.outcome, detail: result.detail });
    if (result.outcome === 'refused') {
      throw new DeadLetterException(DeadLetterErrorCode.ReplayRefused, `dead letter ${id} was refused again: ${result.detail}`, {
        id,
        reason: result.detail,
      });
    }
    return {
      id,
      consumer: letter.consumer,
      outcome: 'applied',
      detail: result.detail,
      actor: origin.actor,
      replayedAt: new Date().toISOString(),
    };
  }

  /** Only single-region tests run without replication: the region's consumers and its Kafka client are off. */
  private refuseWithoutReplication(): void {
    if (this.config.replication.enabled) return;
    throw new DeadLetterException(
      DeadLetterErrorCode.NotReady,
      'replication is off in this region (STOCKMESH_REPLICATION=false): its consumers dead-letter nothing and it reads no Kafka topic',
    );
  }

  private replayedAlready(letter: Letter, replay: DeadLetterReplayRecord | undefined): DeadLetterException {
    this.metrics.deadLetterReplayed(letter.kind, 'already_replayed');
    const id = `${letter.partition}:${letter.offset}`;
    return new DeadLetterException(DeadLetterErrorCode.Replayed, `dead letter ${id} was replayed already`, {
      id,
      ...(replay ? { replayedAt: replay.replayedAt.toISOString(), detail: replay.detail } : {}),
    });
  }

  /** The letter `<partition>:<offset>`, if it is in the topic and one of this region's consumers wrote it. */
  private async find(id: string): Promise<Letter> {
    const [partition, offset] = [Number(id.split(':')[0]), BigInt(id.split(':')[1])];
    const bounds = (await this.log.bounds()).find((b) => b.partition === partition);
    const notFound = (): DeadLetterException =>
      new DeadLetterException(DeadLetterErrorCode.NotFound, `no dead letter ${id} of ${this.config.region.id} in the dead-letter topic`, {
        id,
      });
    if (bounds === undefined || offset < bounds.low || offset >= bounds.high) throw notFound();
    const [record] = await this.read([{ partition, from: offset, to: offset + 1n }]);
    const letter = record === undefined ? undefined : this.letterOf(record);
    if (letter === undefined || letter.offset !== offset) throw notFound();
    return letter;
  }

  private async read(ranges: Parameters<DeadLetterLog['read']>[0]): Promise<IncomingMessage[]> {
    try {
      return await this.log.read(ranges, AbortSignal.timeout(READ_DEADLINE_MS));
    } catch (error) {
      if (!(error instanceof Error) || !/not read in time/.test(error.message)) throw error;
      throw new DeadLetterException(DeadLetterErrorCode.NotReady, `the dead-letter topic could not be read within ${READ_DEADLINE_MS} ms`);
    }
  }

  /**
   * The letter, when a consumer of this region (`stockmesh.<kind>.<region>`) wrote the record and
   * its `dlt_*` headers say where the original was; `undefined` for others' letters.
   */
  private letterOf(record: IncomingMessage): Letter | undefined {
    const h = record.headers;
    const match = /^stockmesh\.(replica|digests|commands)\.(.+)$/.exec(h.dlt_consumer ?? '');
    if (!match || match[2] !== this.config.region.id) return undefined;
    if (!/^\d{1,5}$/.test(h.dlt_partition ?? '') || !/^\d{1,18}$/.test(h.dlt_offset ?? '') || !h.dlt_topic) return undefined;
    const headers = Object.fromEntries(Object.entries(h).filter(([name]) => !name.startsWith('dlt_')));
    return {
      partition: record.partition,
      offset: BigInt(record.offset),
      consumer: match[0],
      kind: match[1] as DeadLetterConsumer,
      record,
      original: {
        topic: h.dlt_topic,
        partition: Number(h.dlt_partition),
        offset: h.dlt_offset,
        key: record.key,
        value: record.value,
        headers,
        timestamp: record.timestamp,
      },
    };
  }

  private notReplayableBecause(letter: Letter): string | undefined {
    const byKind = NOT_REPLAYABLE[letter.kind];
    if (byKind !== undefined) return byKind;
    if (!this.replayers.find(letter.consumer)) return 'no consumer of this region replays them';
    if (letter.kind === 'commands') {
      // A command runs once per id only while its id is remembered: past that, a replay could run
      // it a second time (say its sender sent it again and it ran). A margin keeps a replay that
      // takes a while inside the window.
      if (!commandStillRemembered(this.deadLetteredAt(letter), Date.now(), this.config.retention.idempotencyMs)) {
        return `command ids are remembered for STOCKMESH_IDEMPOTENCY_RETENTION_HOURS (${this.config.retention.idempotencyMs / 3_600_000} h) and this command was dead-lettered longer ago than that allows: replayed, it could run a second time; send it again with a new id if it is still wanted`;
      }
    }
    // The letter names the topic without the deployment's prefix (see `dlt_topic`); either is taken.
    if ([TOPICS.apiKeys, this.config.kafka.topicPrefix + TOPICS.apiKeys].includes(letter.original.topic)) {
      // Applying one change of a key alone could undo a later one not replayed (a revocation):
      // a key is made again at its region instead.
      return 'an API key’s changes must apply in order with its later ones (a revocation would be undone by replaying its making alone); revoke the key, or make it again, at any region';
    }
    return undefined;
  }

  /** When the letter was written: its `dlt_time` header, else the record's timestamp. */
  private deadLetteredAt(letter: Letter): number {
    const written = Date.parse(letter.record.headers.dlt_time ?? '');
    return Number.isNaN(written) ? letter.record.timestamp : written;
  }

  private view(letter: Letter, replay: DeadLetterReplayRecord | undefined): DeadLetterView {
    const h = letter.record.headers;
    const value = letter.record.value;
    const notReplayableBecause = this.notReplayableBecause(letter);
    const lastReplay: DeadLetterReplayView | null = replay
      ? { outcome: replay.outcome, detail: replay.detail, actor: replay.actor, replayedAt: replay.replayedAt.toISOString() }
      : null;
    return {
      id: `${letter.partition}:${letter.offset}`,
      consumer: letter.consumer,
      reason: h.dlt_reason ?? '',
      topic: letter.original.topic,
      partition: letter.original.partition,
      offset: letter.original.offset,
      key: letter.record.key,
      ...(h.ce_type ? { type: h.ce_type } : {}),
      ...(h.ce_id ? { eventId: h.ce_id } : {}),
      ...(h.ce_source ? { source: h.ce_source } : {}),
      deadLetteredAt: h.dlt_time ?? new Date(letter.record.timestamp).toISOString(),
      valueBytes: value?.length ?? 0,
      valuePreview: value === null ? null : value.toString('utf8').slice(0, PREVIEW_CHARS),
      replayable: notReplayableBecause === undefined,
      ...(notReplayableBecause === undefined ? {} : { notReplayableBecause }),
      replayed: replay?.outcome === 'applied',
      lastReplay,
    };
  }
}
