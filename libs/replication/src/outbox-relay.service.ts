import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { MessageBus, type OutgoingMessage } from '@stockmesh/messaging';
import { Metrics } from '@stockmesh/metrics';
import { OUTBOX_RELAY_LOCK, ShardDatabases } from '@stockmesh/persistence';
import type { ShardDatabase } from '@stockmesh/sharding';
import { Backoff } from './backoff.js';
import { LazyPublisher } from './lazy-publisher.js';
import { OutboxRepository, type OutboxRow } from './outbox.repository.js';
import { PublishedOffsets } from './published-offsets.js';
import { TopicsReady } from './topics-ready.service.js';

/** Advisory lock held while relaying one database's outbox: one relay at a time keeps the order. */
const BATCH = 500;
/**
 * Without a wake-up, look anyway: first after `POLL_MIN_MS`, then twice as long after each look
 * that found nothing, up to `POLL_MAX_MS`. Only rows no relay of their own process was woken for
 * wait that long (written by an instance whose relay is off or was stopping).
 */
const POLL_MIN_MS = 500;
const POLL_MAX_MS = 5_000;
/** Another instance relays the database right now: look again this soon (it may have read before our commit). */
const LOCKED_RETRY_MS = 20;

/**
 * Publishes each shard database's outbox to Kafka, in sequence order, with an idempotent
 * producer. Several instances of a region may run: a transaction-scoped advisory lock lets one
 * relay a database at a time, and an event is deleted from the outbox in the transaction that
 * published it. A crash between the broker's ack and the commit publishes the batch again:
 * duplicates carry the same row versions, and replicas ignore what they have.
 *
 * A transaction that appends to an outbox wakes this process's relay of that database once it has
 * committed (no NOTIFY: its server-wide lock serialises commits across all databases); the relay
 * also looks on its own, less often the longer it finds nothing, for rows another process wrote.
 *
 * For each state change the compacted state topic is written before the live topic, so a region
 * rebuilding from the state topic (see ReplicaRebuilder) cannot miss a change that the live
 * topic already had when it took its starting offsets.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly abort = new AbortController();
  private readonly wakers = new Map<string, () => void>();
  /** Databases whose outbox was appended to while their relay was not napping. */
  private readonly appended = new Set<string>();
  private loops: Promise<void>[] = [];
  private readonly publisher: LazyPublisher;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly databases: ShardDatabases,
    private readonly outbox: OutboxRepository,
    private readonly bus: MessageBus,
    private readonly published: PublishedOffsets,
    private readonly topics: TopicsReady,
    private readonly metrics: Metrics,
  ) {
    this.publisher = new LazyPublisher(bus);
    outbox.onAppended((database) => this.wake(database));
  }

  onApplicationBootstrap(): void {
    if (!this.config.replication.enabled) return;
    this.loops = this.databases.all().map((db) => this.relayForever(db));
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    this.wakers.forEach((wake) => wake());
    await Promise.allSettled(this.loops);
    await this.publisher.close();
  }

  /** Events still waiting in the outboxes of this region. */
  async pending(): Promise<number> {
    const counts = await Promise.all(this.databases.all().map((db) => this.databases.read(db, (tx) => this.outbox.pending(tx))));
    return counts.reduce((a, b) => a + b, 0);
  }

  private async relayForever(db: ShardDatabase): Promise<void> {
    const signal = this.abort.signal;
    await this.topics.ready(signal);
    const backoff = new Backoff();
    let pollMs = POLL_MIN_MS;
    while (!signal.aborted) {
      try {
        const published = await this.relayOnce(db);
        backoff.reset();
        if (published === 'locked') await this.nap(db, LOCKED_RETRY_MS);
        else if (published < BATCH) {
          pollMs = published > 0 ? POLL_MIN_MS : Math.min(pollMs * 2, POLL_MAX_MS);
          await this.nap(db, pollMs);
        }
      } catch (error) {
        this.logger.warn({ msg: 'publishing the outbox failed; retrying', database: db.name, err: (error as Error).message });
        await backoff.wait(signal);
      }
    }
  }

  /** Publishes up to `BATCH` events of the database; `'locked'` when another instance is at it. */
  private async relayOnce(db: ShardDatabase): Promise<number | 'locked'> {
    return this.databases.inDatabase(db, async (tx) => {
      const [{ locked }] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [OUTBOX_RELAY_LOCK]);
      if (!locked) return 'locked';
      const rows = await this.outbox.oldest(tx, BATCH);
      if (rows.length === 0) return 0;
      const published = this.metrics.outboxBatch(db.name);
      const compacted = rows.filter((r) => r.compactTopic !== null).map((r) => this.message(r, true));
      if (compacted.length > 0) await this.publisher.publish(compacted);
      this.published.record(await this.publisher.publish(rows.map((r) => this.message(r, false))));
      await this.outbox.delete(
        tx,
        rows.map((r) => r.seq),
      );
      published(rows.length);
      return rows.length;
    });
  }

  private message(row: OutboxRow, compacted: boolean): OutgoingMessage {
    return {
      topic: compacted ? (row.compactTopic as string) : row.topic,
      partition: row.partition,
      key: compacted ? (row.compactKey as string) : row.key,
      value: row.value,
      headers: row.headers,
    };
  }

  /** Wakes the database's relay: a transaction that appended to its outbox has committed. */
  private wake(database: string): void {
    const wake = this.wakers.get(database);
    if (wake) wake();
    else this.appended.add(database);
  }

  /**
   * Waits for a wake-up (a transaction of this process appended to the outbox and committed), or
   * `ms`. A wake-up that came while the relay was busy is not lost: the next nap returns at once.
   */
  private nap(db: ShardDatabase, ms: number): Promise<void> {
    // After shutdown began, no new nap: close() already woke the sleepers it could see.
    if (this.appended.delete(db.name) || this.abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      // Unref'd: a relay waiting for work never keeps the process alive on its own.
      const timer = setTimeout(done, ms).unref();
      const wakers = this.wakers;
      function done(): void {
        clearTimeout(timer);
        wakers.delete(db.name);
        resolve();
      }
      this.wakers.set(db.name, done);
    });
  }
}
