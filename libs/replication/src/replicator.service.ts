import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { parseEvent, PoisonEventError, TOPICS, type CloudEvent, type EventDataMap, type EventType } from '@stockmesh/contracts';
import { OwnerDirectory } from '@stockmesh/http';
import {
  MessageBus,
  type BatchConsumer,
  type IncomingMessage,
  type MessageBatch,
  type OutgoingMessage,
  type TopicPartitionOffset,
} from '@stockmesh/messaging';
import { Metrics, type DeadLetterReason } from '@stockmesh/metrics';
import { ShardDatabases } from '@stockmesh/persistence';
import { Backoff } from './backoff.js';
import { LazyPublisher } from './lazy-publisher.js';
import { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import { deadLetter, refusalReason } from './dead-letters/dead-letter.js';
import { DeadLetterReplayers, type DeadLetterReplayer, type ReplayResult } from './dead-letters/dead-letter-replayers.js';
import { EventAppliers, type OffsetEvent } from './event-appliers.js';
import { ReplicaGaps } from './replica-gaps.js';
import { ReplicaBootstrap, type EndOffsets } from './replica-bootstrap.js';
import { ReplicaRebuilder } from './replica-rebuilder.service.js';
import { replicatedTopics, type ReplicatedTopic } from './replicated-topics.js';
import { TopicsReady } from './topics-ready.service.js';

type AnyEvent = CloudEvent<EventType, EventDataMap[EventType]>;

/** What one committed pass over a batch did: where to continue, and what to count. */
interface AppliedBatch {
  readonly next: TopicPartitionOffset;
  readonly deadLettered: readonly DeadLetterReason[];
  readonly appliedSources: readonly string[];
}

/** How long a record naming a warehouse unknown to the catalog waits for the catalog to catch up. */
const UNKNOWN_WAREHOUSE_PATIENCE_MS = 60_000;

/** The database refused data of a batch applied as a whole: it is applied again record by record. */
class BatchRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'BatchRefused';
  }
}

/** Dead letters published per call: a partition batch of poison could exceed the broker's largest request. */
const DEAD_LETTERS_PER_PUBLISH = 100;

/** A record of the batch whose data the database refused: the batch is applied again without it. */
class RecordRefused extends Error {
  constructor(
    readonly offset: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'RecordRefused';
  }
}

/**
 * Applies the other regions' events to this region's replicas. Each batch (one partition) is
 * applied in one transaction on the database hosting that partition's shard, together with the
 * partition's next offset, so a crash at any point neither loses nor double-applies an event:
 * after a restart the consumer resumes at the stored position, and records before it are
 * skipped. Kafka's committed offsets only speed up the restart; the database is the truth.
 *
 * A record that is not a valid event, sits on a partition its SKU does not belong to, comes from
 * a region that does not own its warehouse, or holds data the database refuses (SQLSTATE classes
 * 22 and 23) goes to the dead-letter topic with the reason (before the position moves past it)
 * and the partition keeps moving. Only failures that may pass (connection loss, deadlock,
 * serialization ...) roll the batch back for it to be applied again later. The region's own
 * events are skipped.
 */
@Injectable()
export class Replicator implements OnApplicationBootstrap, OnApplicationShutdown, DeadLetterReplayer {
  private readonly logger = new Logger(Replicator.name);
  private readonly abort = new AbortController();
  private readonly topics: ReplicatedTopic[];
  private consumer?: BatchConsumer;
  private readonly deadLetters: LazyPublisher;
  private running?: Promise<void>;
  /** Partitions read from their stored position since they were assigned to this instance. */
  private readonly positioned = new Set<string>();
  /** Warehouse owners known from the catalog (a warehouse's region never changes). */
  private readonly owners = new Map<string, string>();
  /** Since when each record naming a warehouse unknown to the catalog has waited for it. */
  private readonly waitingForCatalog = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly positions: ConsumerPositionsRepository,
    private readonly appliers: EventAppliers,
    private readonly bus: MessageBus,
    private readonly rebuilder: ReplicaRebuilder,
    private readonly bootstrap: ReplicaBootstrap,
    private readonly topicsReady: TopicsReady,
    private readonly gaps: ReplicaGaps,
    private readonly directory: OwnerDirectory,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    replayers: DeadLetterReplayers,
  ) {
    this.topics = replicatedTopics(config);
    this.deadLetters = new LazyPublisher(bus);
    replayers.register(this);
  }

  /** The consumer group this replicator reads and dead-letters as. */
  get consumerGroup(): string {
    return `stockmesh.replica.${this.config.region.id}`;
  }

  /**
   * Applies a record this replicator dead-lettered, as `apply` would have: the same checks (the
   * catalog now, without waiting for it), the same appliers, in a transaction on the database
   * of its partition. The replicator's own batches of that partition wait meanwhile (the
   * position's lock is taken), and the position does not move: the replay is off the log.
   *
   * Neither a double apply nor a step back: every applier is idempotent against what its table
   * holds (a replica row or a warehouse only takes a higher version, an API key only a higher
   * version or a revocation, a transfer's receipt is claimed once, a transfer settles once), so a
   * record applied since, or one older than the row, changes nothing.
   */
  async replay(original: IncomingMessage): Promise<ReplayResult> {
    const route = this.topics.find((t) => t.topic === original.topic);
    if (!route) return { outcome: 'refused', detail: `topic ${original.topic} is not applied by this region` };
    const verdict = await this.admit(route, original, original.partition, false);
    if (verdict === undefined) return { outcome: 'refused', detail: `it is an event of this region (${this.config.region.id})` };
    if (typeof verdict === 'string') return { outcome: 'refused', detail: verdict };
    try {
      await this.databases.inDatabase(route.database(original.partition), async (tx) => {
        await this.positions.lock(tx, original.topic, original.partition);
        await this.appliers.apply(tx, verdict, BigInt(original.offset));
      });
    } catch (error) {
      const reason = refusalReason(error);
      if (reason === undefined) throw error;
      return { outcome: 'refused', detail: reason };
    }
    this.metrics.applied(original.topic, [verdict.source]);
    return { outcome: 'applied', detail: `${verdict.type} ${verdict.id} from ${verdict.source} applied` };
  }

  onApplicationBootstrap(): void {
    if (!this.config.replication.enabled) {
      this.bootstrap.complete();
      return;
    }
    this.running = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => undefined);
    await this.consumer?.stop().catch(() => undefined);
    await this.deadLetters.close();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const backoff = new Backoff(500, 5_000);
    // Decided on the databases alone, before the broker is needed: a region that has its replicas
    // is ready while the broker is away; one that has none, or did not finish getting them, is not
    // until it has them (ReplicaBootstrap).
    let joining: boolean | undefined;
    while (joining === undefined && !signal.aborted) {
      try {
        joining = await this.bootstrap.begin(await this.rebuilder.shardsWithoutPosition());
      } catch (error) {
        this.logger.warn({ msg: 'could not read the stored positions; retrying', err: (error as Error).message });
        await backoff.wait(signal);
      }
    }
    if (signal.aborted) return;
    await this.topicsReady.ready(signal);
    backoff.reset();
    while (!signal.aborted) {
      try {
        await this.rebuilder.rebuildMissing(signal);
        if (signal.aborted) return;
        if (joining) this.bootstrap.catchUpTo(await this.endOffsets());
        this.consumer = this.bus.consumer({
          groupId: this.consumerGroup,
          topics: this.topics.map((t) => t.topic),
          fromBeginning: true,
          maxWaitMs: this.config.kafka.maxWaitMs,
          positionsFor: (assigned) => this.storedPositions(assigned),
        });
        await this.consumer.start((batch) => this.apply(batch));
        this.logger.log('applying the other regions’ events');
        return;
      } catch (error) {
        this.logger.warn({ msg: 'could not start replication; retrying', err: (error as Error).message });
        await this.consumer?.stop().catch(() => undefined);
        await backoff.wait(signal);
      }
    }
  }

  /** Where each assigned partition resumes: the position stored with the applied rows. */
  private async storedPositions(assigned: readonly { topic: string; partition: number }[]): Promise<TopicPartitionOffset[]> {
    const result: TopicPartitionOffset[] = [];
    const firstKept = assigned.some((a) => a.topic === TOPICS.stock) ? await this.firstOffsetsKept() : new Map<number, bigint>();
    for (const { topic, partition } of assigned) {
      this.positioned.delete(`${topic}/${partition}`);
      const route = this.route(topic);
      const db = route.database(partition);
      const stored = await this.databases.read(db, (tx) => this.positions.all(tx, topic));
      let offset = stored.get(partition);
      const low = firstKept.get(partition);
      if (topic === TOPICS.stock && offset !== undefined && low !== undefined && offset < low) {
        // Retention removed records this region never applied, and no record may come after them
        // for a long time: the shard is repaired from the state topic now, and the position moves
        // to the first record kept (what lies below it can only come from the state topic).
        const repairing = this.gaps.report({ topic, partition, expected: offset, got: low });
        this.logger.error({
          msg: repairing
            ? 'events are missing from the live topic (retention); repairing the shard from the state topic'
            : 'events are missing from the live topic (retention); rebuild this region’s replicas',
          topic,
          partition,
          expected: offset.toString(),
          got: low.toString(),
        });
        if (repairing) {
          await this.databases.inDatabase(db, (tx) => this.positions.save(tx, topic, partition, low));
          offset = low;
        }
      }
      // No position: read from the start of what Kafka keeps (the catalog is compacted, so that
      // is every warehouse; stock partitions get a position from the rebuild first).
      result.push({ topic, partition, offset: (offset ?? 0n).toString() });
    }
    return result;
  }

  /**
   * The end offsets of every replicated topic now, for the partitions that hold records (an empty
   * partition, or one whose records were all deleted, has nothing to catch up on).
   */
  private async endOffsets(): Promise<EndOffsets> {
    const admin = await this.bus.admin();
    try {
      const ends = new Map<string, Map<number, bigint>>();
      for (const { topic } of this.topics) {
        const partitions = (await admin.offsets(topic)).filter((p) => BigInt(p.high) > BigInt(p.low));
        ends.set(topic, new Map(partitions.map((p) => [p.partition, BigInt(p.high)])));
      }
      return ends;
    } finally {
      await admin.close();
    }
  }

  /** The first offset Kafka still has, per partition of the stock topic. */
  private async firstOffsetsKept(): Promise<Map<number, bigint>> {
    const admin = await this.bus.admin();
    try {
      return new Map((await admin.offsets(TOPICS.stock)).map((p) => [p.partition, BigInt(p.low)]));
    } finally {
      await admin.close();
    }
  }

  /**
   * Applies one partition batch; returns the offset to continue from. The batch's events are
   * applied together (set-based SQL, see `EventAppliers.applyAll`) in one transaction with the
   * position. When the database refuses data of the batch for a data reason (see
   * `refusalReason`), the transaction rolls back and the batch is applied again record by record,
   * which names the record: it is dead-lettered and the batch applied once more without it, so the
   * others apply exactly once, and the position is still stored with them. Any other error rolls
   * the batch back and is thrown, so the batch is read again after a pause.
   */
  async apply(batch: MessageBatch): Promise<TopicPartitionOffset> {
    const refused = new Map<string, string>();
    let oneByOne = false;
    for (;;) {
      try {
        const { next, deadLettered, appliedSources } = await this.applyOnce(batch, refused, oneByOne);
        // Counted once the transaction has committed: a pass that rolls back (a refused record, a
        // failed publish) is read again and must not count its records twice.
        for (const reason of deadLettered) this.metrics.deadLettered('replica', reason);
        this.metrics.applied(batch.topic, appliedSources);
        this.metrics.consumerLag(batch.topic, batch.partition, batch.highWatermark, next.offset);
        return next;
      } catch (error) {
        if (error instanceof BatchRefused && !oneByOne) {
          oneByOne = true;
          continue;
        }
        // Each pass refuses a record not refused before, so this ends within the batch's length.
        if (!(error instanceof RecordRefused) || refused.has(error.offset)) throw error;
        refused.set(error.offset, error.reason);
      }
    }
  }

  /**
   * The event to apply, the reason to dead-letter the record, or `undefined` for this region's
   * own events. Checks the event against itself and against the catalog: a stock or transfer
   * event must come from the region the catalog says owns its warehouses.
   */
  private async admit(
    route: ReplicatedTopic,
    message: IncomingMessage,
    partition: number,
    patient = true,
  ): Promise<AnyEvent | string | undefined> {
    let event: AnyEvent;
    try {
      event = parseEvent(message, route.types);
      if (event.source === this.config.region.id) return undefined;
      route.check(event, partition);
    } catch (error) {
      if (error instanceof PoisonEventError) return error.reason;
      throw error;
    }
    const waiting = `${message.topic}/${partition}/${message.offset}`;
    for (const claim of route.owners(event)) {
      const owner = await this.ownerOf(claim.warehouseId);
      if (owner === undefined && !patient) return `warehouse ${claim.warehouseId} is not in the catalog`;
      if (owner === undefined) {
        // The catalog replicates on a topic of its own and is normally ahead, but may be behind
        // (e.g. a warehouse registered just before its first count): wait for it a while, then give up.
        const since = this.waitingForCatalog.get(waiting) ?? this.clock.now();
        this.waitingForCatalog.set(waiting, since);
        if (this.clock.now() - since < UNKNOWN_WAREHOUSE_PATIENCE_MS) {
          throw new Error(`warehouse ${claim.warehouseId} is not in this region's catalog yet; waiting for it`);
        }
        this.waitingForCatalog.delete(waiting);
        return `warehouse ${claim.warehouseId} is not in the catalog (waited ${UNKNOWN_WAREHOUSE_PATIENCE_MS} ms for it)`;
      }
      if (owner !== claim.region) {
        this.waitingForCatalog.delete(waiting);
        return `warehouse ${claim.warehouseId} belongs to ${owner}, not to ${claim.region} (${event.type} from ${event.source})`;
      }
    }
    this.waitingForCatalog.delete(waiting);
    return event;
  }

  /** The region owning a warehouse, from the catalog; kept once known, since it never changes. */
  private async ownerOf(warehouseId: string): Promise<string | undefined> {
    const known = this.owners.get(warehouseId);
    if (known !== undefined) return known;
    const owner = await this.directory.ownerOfWarehouse(warehouseId);
    if (owner !== undefined) this.owners.set(warehouseId, owner);
    return owner;
  }

  private async applyOnce(batch: MessageBatch, refused: ReadonlyMap<string, string>, oneByOne: boolean): Promise<AppliedBatch> {
    const route = this.route(batch.topic);
    const { topic, partition } = batch;
    return this.databases.inDatabase(route.database(partition), async (tx) => {
      const stored = await this.positions.lock(tx, topic, partition);
      const expected = stored ?? BigInt(batch.messages[0].offset);
      const fresh = batch.messages.filter((m) => BigInt(m.offset) >= expected);
      if (fresh.length === 0) return { next: { topic, partition, offset: expected.toString() }, deadLettered: [], appliedSources: [] };
      const partitionKey = `${topic}/${partition}`;
      if (BigInt(fresh[0].offset) > expected) {
        if (!this.positioned.has(partitionKey)) {
          // The first batch after an assignment may come from Kafka's committed offset, ahead of
          // the stored position: read from the stored position first.
          this.positioned.add(partitionKey);
          this.logger.warn({
            msg: 'batch starts past the stored position; seeking back to it',
            topic,
            partition,
            expected: expected.toString(),
            got: fresh[0].offset,
          });
          return { next: { topic, partition, offset: expected.toString() }, deadLettered: [], appliedSources: [] };
        }
        // Reading from the stored position, the log itself has no records in between: normal on a
        // compacted topic, but on the live stock topic it means retention removed events this
        // region never applied. Their rows are repaired from the compacted state topic, which
        // holds every row's latest state (ReplicaGaps hands the gap to the stock module's
        // repair); the batch is applied meanwhile, and the repair never moves a row backwards.
        // On the transfers topic it means units in transit were lost: they stay pending at the source.
        if (topic === TOPICS.stock) {
          const gap = { topic, partition, expected, got: BigInt(fresh[0].offset) };
          const repairing = this.gaps.report(gap);
          this.logger.error({
            msg: repairing
              ? 'events are missing from the live topic (retention); repairing the shard from the state topic'
              : 'events are missing from the live topic (retention); rebuild this region’s replicas',
            topic,
            partition,
            expected: expected.toString(),
            got: fresh[0].offset,
          });
        } else if (topic === TOPICS.transfers) {
          this.logger.error({
            msg: 'transfer events are missing (retention); their units stay pending at the source',
            topic,
            partition,
            expected: expected.toString(),
            got: fresh[0].offset,
          });
        }
      }
      this.positioned.add(partitionKey);
      const consumer = this.consumerGroup;
      const poison: OutgoingMessage[] = [];
      const deadLettered: DeadLetterReason[] = [];
      const admitted: (OffsetEvent & { readonly offset: bigint })[] = [];
      for (const message of fresh) {
        const verdict = refused.get(message.offset) ?? (await this.admit(route, message, partition));
        if (verdict === undefined) continue;
        if (typeof verdict === 'string') {
          poison.push(deadLetter(message, verdict, consumer));
          deadLettered.push(refused.has(message.offset) ? 'database_refused' : 'invalid_event');
          continue;
        }
        admitted.push({ event: verdict, offset: BigInt(message.offset) });
      }
      if (oneByOne) {
        for (const { event, offset } of admitted) {
          try {
            await this.appliers.apply(tx, event, offset);
          } catch (error) {
            const reason = refusalReason(error);
            if (reason === undefined) throw error;
            // The transaction is aborted (or holds part of this record's writes): roll it back and
            // apply the batch again without this record.
            throw new RecordRefused(offset.toString(), reason);
          }
        }
      } else {
        try {
          await this.appliers.applyAll(tx, admitted);
        } catch (error) {
          const reason = refusalReason(error);
          if (reason === undefined) throw error;
          throw new BatchRefused(reason);
        }
      }
      // Published before the position commits: a crash in between dead-letters it twice, never not at all.
      for (const record of poison) {
        const { dlt_offset: offset, dlt_reason: reason } = record.headers ?? {};
        this.logger.warn({ msg: 'dead-lettering a record', topic, partition, offset, reason });
      }
      for (let i = 0; i < poison.length; i += DEAD_LETTERS_PER_PUBLISH) {
        await this.deadLetters.publish(poison.slice(i, i + DEAD_LETTERS_PER_PUBLISH));
      }
      const next = BigInt(fresh[fresh.length - 1].offset) + 1n;
      await this.positions.save(tx, topic, partition, next);
      return {
        next: { topic, partition, offset: next.toString() },
        deadLettered,
        appliedSources: admitted.map((a) => a.event.source),
      };
    });
  }

  private route(topic: string): ReplicatedTopic {
    const route = this.topics.find((t) => t.topic === topic);
    if (!route) throw new Error(`topic ${topic} is not replicated here`);
    return route;
  }
}
