import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** How a reservation ended up, as counted by `stockmesh_reservations_total`. */
export type ReservationOutcome = 'held' | 'insufficient_stock' | 'committed' | 'released' | 'expired' | 'abandoned';
/** A step of a hold at its owner (counted where the owner runs it). */
export type HoldTransition = 'placed' | 'committed' | 'released' | 'expired';
/** A step the coordinating saga asks an owner for, and what came of it. */
export type SagaStep = 'place' | 'commit' | 'release' | 'renew';
export type SagaStepOutcome = 'done' | 'insufficient' | 'conflict' | 'unavailable';
/** What one allocation of a decided reservation came to when its owner was asked to finish it. */
export type FinishOutcome = 'finished' | 'retrying' | 'lost';
/** The consumer that dead-lettered a record, and why (a bounded set: the free-text reason is in the record's `dlt_reason`). */
export type DeadLetterConsumer = 'replica' | 'digests' | 'commands';
export type DeadLetterReason = 'invalid_event' | 'invalid_command' | 'database_refused';
/** What an operator's replay of a dead letter came to. */
export type DeadLetterReplayOutcome = 'applied' | 'refused' | 'already_replayed' | 'not_replayable';

/** Totals of this process's counters since it started, for a live view that works out rates between two readings. */
export interface ActivityTotals {
  /** Writes (POST, PUT, DELETE) of clients answered 2xx on the public listener: counts, adjustments, reservations, transfers, ... */
  readonly writeRequests: number;
  /** Reservations coordinated here, by outcome (`stockmesh_reservations_total`). */
  readonly reservations: Readonly<Partial<Record<ReservationOutcome, number>>>;
  /** Outbox events published to Kafka. */
  readonly eventsPublished: number;
  /** Other regions' events applied to the replicas here. */
  readonly eventsApplied: number;
  /** Records sent to the dead-letter topic. */
  readonly deadLetters: number;
  /** Replica rows repaired by anti-entropy. */
  readonly rowsRepaired: number;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

/** Seconds: from a millisecond cache hit to a hold step that waits out its 2 s owner timeout. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Every Prometheus metric of one region process, in a registry of its own: tests run several
 * regions in one process, so nothing goes to prom-client's global registry. Services call the
 * recording methods (one line at the place something happened); figures that are cheaper to read
 * than to track (outbox rows, pools, lag) are set by collectors run on each scrape. Names follow
 * Prometheus conventions: `stockmesh_` prefix, base units in the name, `_total` for counters, and
 * label values from small fixed sets (route templates, never URLs; region ids from the cluster).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  private readonly collectors: (() => Promise<void> | void)[] = [];

  readonly httpRequests = new Counter({
    name: 'stockmesh_http_requests_total',
    help: 'HTTP requests answered, by listener (public, internal), method, route template and status code.',
    labelNames: ['listener', 'method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'stockmesh_http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to finishing its answer, by listener, method and route template.',
    labelNames: ['listener', 'method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly reservations = new Counter({
    name: 'stockmesh_reservations_total',
    help: 'Reservations coordinated here, by what became of them: held or insufficient_stock when made; committed, released, expired, abandoned (the coordinator stopped mid-saga) later.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly holds = new Counter({
    name: 'stockmesh_holds_total',
    help: 'Holds on this region’s stock (as the owner), by transition: placed, committed, released, expired (released by the owner past expiry and grace).',
    labelNames: ['transition'] as const,
    registers: [this.registry],
  });
  readonly sagaSteps = new Counter({
    name: 'stockmesh_saga_steps_total',
    help: 'Hold steps the reservation saga asked an owner for, by step, owner (local, remote) and outcome.',
    labelNames: ['step', 'owner', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly sagaStepDuration = new Histogram({
    name: 'stockmesh_saga_step_duration_seconds',
    help: 'Time of one hold step of the saga, by step and owner (local, remote).',
    labelNames: ['step', 'owner'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly sagaFinishes = new Counter({
    name: 'stockmesh_saga_finish_attempts_total',
    help: 'Allocations of decided reservations carried to their owners, by result: finished, retrying (owner did not answer; retried after a backoff), lost (the owner no longer had the hold).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly outboxPublished = new Counter({
    name: 'stockmesh_outbox_events_published_total',
    help: 'Outbox events published to Kafka, by database.',
    labelNames: ['database'] as const,
    registers: [this.registry],
  });
  readonly outboxPublishDuration = new Histogram({
    name: 'stockmesh_outbox_publish_duration_seconds',
    help: 'Time to publish one outbox batch (state and live topics) and delete it from the outbox, by database.',
    labelNames: ['database'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly outboxPending = new Gauge({
    name: 'stockmesh_outbox_pending_events',
    help: 'Events committed but not yet published, by database (counted at scrape time).',
    labelNames: ['database'] as const,
    registers: [this.registry],
  });
  readonly eventsApplied = new Counter({
    name: 'stockmesh_replication_events_applied_total',
    help: 'Other regions’ events applied to this region’s replicas, by topic and source region.',
    labelNames: ['topic', 'source_region'] as const,
    registers: [this.registry],
  });
  readonly replicationLagEvents = new Gauge({
    name: 'stockmesh_replication_lag_events',
    help: 'Stock events a source region had published (as of its last heartbeat) that are not applied here yet.',
    labelNames: ['source_region'] as const,
    registers: [this.registry],
  });
  readonly replicationLagSeconds = new Gauge({
    name: 'stockmesh_replication_lag_seconds',
    help: 'Age of the oldest heartbeat of a source region whose events are not all applied here; 0 when caught up.',
    labelNames: ['source_region'] as const,
    registers: [this.registry],
  });
  readonly replicationSourceStale = new Gauge({
    name: 'stockmesh_replication_source_stale',
    help: '1 when no heartbeat of the source region arrived within STOCKMESH_STALE_AFTER_MS (its figures here may be old), else 0.',
    labelNames: ['source_region'] as const,
    registers: [this.registry],
  });
  readonly kafkaConsumerLag = new Gauge({
    name: 'stockmesh_kafka_consumer_lag_messages',
    help: 'Records of a replicated topic partition after the last batch this region read (high watermark minus next offset), as of that batch.',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'stockmesh_dead_letters_total',
    help: 'Records sent to the dead-letter topic, by consumer (replica, digests, commands) and reason (invalid_event, invalid_command, database_refused).',
    labelNames: ['consumer', 'reason'] as const,
    registers: [this.registry],
  });
  readonly deadLetterReplays = new Counter({
    name: 'stockmesh_dead_letter_replays_total',
    help: 'Replays of dead letters operators asked for, by consumer (replica, digests, commands) and outcome (applied, refused, already_replayed, not_replayable).',
    labelNames: ['consumer', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly antiEntropyChecks = new Counter({
    name: 'stockmesh_anti_entropy_checks_total',
    help: 'Digests of a source region’s rows compared with this region’s replica of them.',
    labelNames: ['source_region'] as const,
    registers: [this.registry],
  });
  readonly antiEntropyBucketsCompared = new Counter({
    name: 'stockmesh_anti_entropy_buckets_compared_total',
    help: 'Replica buckets compared with a source region’s digests (unsettled and moved buckets are left out).',
    labelNames: ['source_region'] as const,
    registers: [this.registry],
  });
  readonly antiEntropyBucketsDiffering = new Counter({
    name: 'stockmesh_anti_entropy_buckets_differing_total',
    help: 'Replica buckets that differed from a source region’s digest (each is repaired).',
    labelNames: ['source_region'] as const,
    registers: [this.registry],
  });
  readonly antiEntropyRowsRepaired = new Counter({
    name: 'stockmesh_anti_entropy_rows_repaired_total',
    help: 'Replica rows repaired (inserted, replaced or deleted) from the state topic, by source region.',
    labelNames: ['source_region'] as const,
    registers: [this.registry],
  });
  readonly dbPoolConnections = new Gauge({
    name: 'stockmesh_db_pool_connections',
    help: 'Connections of a database’s pool, by database and state (total, idle), at scrape time.',
    labelNames: ['database', 'state'] as const,
    registers: [this.registry],
  });
  readonly dbPoolWaiting = new Gauge({
    name: 'stockmesh_db_pool_waiting_requests',
    help: 'Requests waiting for a free connection of a database’s pool, at scrape time.',
    labelNames: ['database'] as const,
    registers: [this.registry],
  });
  readonly collectorFailures = new Counter({
    name: 'stockmesh_metrics_collector_failures_total',
    help: 'Scrape-time collectors that failed (their gauges keep their previous values).',
    registers: [this.registry],
  });

  constructor(defaultLabels: Readonly<Record<string, string>> = {}) {
    this.registry.setDefaultLabels({ ...defaultLabels });
    // Process CPU, memory, event loop lag, handles and GC, under prom-client's standard names.
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Runs `collect` before each exposition, after the collectors added before it: for figures read
   * at scrape time (a cheap query, a pool's counters).
   */
  addCollector(collect: () => Promise<void> | void): void {
    this.collectors.push(collect);
  }

  /** The Prometheus text exposition of every metric, after running the collectors. */
  async exposition(): Promise<string> {
    // One after the other: a collector that reads a pool must not see the connections another one is taking.
    for (const collect of this.collectors) {
      try {
        await collect();
      } catch {
        // A database that is down must not cost the scrape the other figures; the counter says so.
        this.collectorFailures.inc();
      }
    }
    return this.registry.metrics();
  }

  /** The counters a live view shows (the dashboard), summed over their labels; in-memory only, cheap. */
  async activity(): Promise<ActivityTotals> {
    const sum = async (counter: Counter<string>): Promise<number> => (await counter.get()).values.reduce((total, v) => total + v.value, 0);
    const requests = (await this.httpRequests.get()).values;
    const reservations: Partial<Record<ReservationOutcome, number>> = {};
    for (const v of (await this.reservations.get()).values) {
      const outcome = v.labels.outcome as ReservationOutcome;
      reservations[outcome] = (reservations[outcome] ?? 0) + v.value;
    }
    return {
      writeRequests: requests
        .filter(
          (v) => v.labels.listener === 'public' && WRITE_METHODS.has(String(v.labels.method)) && String(v.labels.status).startsWith('2'),
        )
        .reduce((total, v) => total + v.value, 0),
      reservations,
      eventsPublished: await sum(this.outboxPublished),
      eventsApplied: await sum(this.eventsApplied),
      deadLetters: await sum(this.deadLetters),
      rowsRepaired: await sum(this.antiEntropyRowsRepaired),
    };
  }

  /** The Content-Type of `exposition()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  reservation(outcome: ReservationOutcome, count = 1): void {
    if (count > 0) this.reservations.inc({ outcome }, count);
  }

  hold(transition: HoldTransition, count = 1): void {
    if (count > 0) this.holds.inc({ transition }, count);
  }

  /** Starts timing one saga step at an owner; call the result with its outcome. */
  sagaStep(step: SagaStep, owner: 'local' | 'remote'): (outcome: SagaStepOutcome) => void {
    const stop = this.sagaStepDuration.startTimer({ step, owner });
    return (outcome) => {
      stop();
      this.sagaSteps.inc({ step, owner, outcome });
    };
  }

  sagaFinished(report: { readonly finished: number; readonly retrying: number; readonly lost: number }): void {
    for (const result of ['finished', 'retrying', 'lost'] as const)
      if (report[result] > 0) this.sagaFinishes.inc({ result }, report[result]);
  }

  /** Starts timing one outbox batch of `database`; call the result with the events it published. */
  outboxBatch(database: string): (published: number) => void {
    const stop = this.outboxPublishDuration.startTimer({ database });
    return (published) => {
      if (published === 0) return;
      stop();
      this.outboxPublished.inc({ database }, published);
    };
  }

  /** Events of one batch applied from `sources` (one entry per event), and the partition's remaining lag. */
  applied(topic: string, sources: readonly string[]): void {
    const bySource = new Map<string, number>();
    for (const source of sources) bySource.set(source, (bySource.get(source) ?? 0) + 1);
    for (const [source, n] of bySource) this.eventsApplied.inc({ topic, source_region: source }, n);
  }

  consumerLag(topic: string, partition: number, highWatermark: string, nextOffset: string): void {
    const lag = Number(BigInt(highWatermark) - BigInt(nextOffset));
    this.kafkaConsumerLag.set({ topic, partition: String(partition) }, Math.max(0, lag));
  }

  deadLettered(consumer: DeadLetterConsumer, reason: DeadLetterReason): void {
    this.deadLetters.inc({ consumer, reason });
  }

  deadLetterReplayed(consumer: DeadLetterConsumer, outcome: DeadLetterReplayOutcome): void {
    this.deadLetterReplays.inc({ consumer, outcome });
  }

  digestCompared(sourceRegion: string, bucketsCompared: number, bucketsDiffering: number): void {
    this.antiEntropyChecks.inc({ source_region: sourceRegion });
    this.antiEntropyBucketsCompared.inc({ source_region: sourceRegion }, bucketsCompared);
    this.antiEntropyBucketsDiffering.inc({ source_region: sourceRegion }, bucketsDiffering);
  }

  rowsRepaired(sourceRegion: string, rows: number): void {
    this.antiEntropyRowsRepaired.inc({ source_region: sourceRegion }, rows);
  }
}
