import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { MessageBus, type OutgoingMessage } from '@stockmesh/messaging';
import { Metrics } from '@stockmesh/metrics';
import { ShardDatabases } from '@stockmesh/persistence';
import type { ShardDatabase } from '@stockmesh/sharding';
import pg from 'pg';
import { Backoff } from './backoff.js';
import { LazyPublisher } from './lazy-publisher.js';
import { OutboxRepository, type OutboxRow } from './outbox.repository.js';
import { PublishedOffsets } from './published-offsets.js';
import { TopicsReady } from './topics-ready.service.js';

/** Advisory lock held while relaying one database's outbox: one relay at a time keeps the order. */
const RELAY_LOCK = 0x72656c61; // "rela"
const BATCH = 500;
/** Without a notification (e.g. the listening connection dropped), look anyway this often. */
const POLL_MS = 500;

/**
 * Publishes each shard database's outbox to Kafka, in sequence order, with an idempotent
 * producer. Several instances of a region may run: a transaction-scoped advisory lock lets one
 * relay a database at a time, and an event is deleted from the outbox in the transaction that
 * published it. A crash between the broker's ack and the commit publishes the batch again:
 * duplicates carry the same row versions, and replicas ignore what they have.
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
  /** Databases that notified while their relay was not napping. */
  private readonly notified = new Set<string>();
  /** The LISTEN connection of each database, also the one a reconnect made: ended on shutdown. */
  private readonly listeners = new Map<string, pg.Client>();
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
  }

  onApplicationBootstrap(): void {
    if (!this.config.replication.enabled) return;
    this.loops = this.databases.all().map((db) => this.relayForever(db));
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    this.wakers.forEach((wake) => wake());
    await Promise.allSettled(this.loops);
    await Promise.allSettled([...this.listeners.values()].map((client) => client.end()));
    this.listeners.clear();
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
    void this.listen(db);
    const backoff = new Backoff();
    while (!signal.aborted) {
      try {
        const published = await this.relayOnce(db);
        backoff.reset();
        if (published < BATCH) await this.nap(db);
      } catch (error) {
        this.logger.warn({ msg: 'publishing the outbox failed; retrying', database: db.name, err: (error as Error).message });
        await backoff.wait(signal);
      }
    }
  }

  private async relayOnce(db: ShardDatabase): Promise<number> {
    return this.databases.inDatabase(db, async (tx) => {
      const [{ locked }] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [RELAY_LOCK]);
      if (!locked) return 0;
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

  /**
   * Waits for a NOTIFY from the database (a change committed), or `POLL_MS`. A notification that
   * arrived while the relay was busy is not lost: it makes the next nap return at once.
   */
  private nap(db: ShardDatabase): Promise<void> {
    if (this.notified.delete(db.name)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, POLL_MS);
      const wakers = this.wakers;
      function done(): void {
        clearTimeout(timer);
        wakers.delete(db.name);
        resolve();
      }
      this.wakers.set(db.name, done);
    });
  }

  /**
   * A dedicated connection that LISTENs for new outbox rows; reconnects when it drops. The live
   * client is kept in `listeners` so shutdown ends it, whichever reconnect made it.
   */
  private async listen(db: ShardDatabase): Promise<void> {
    if (this.abort.signal.aborted) return;
    const client = new pg.Client({ connectionString: db.url, application_name: `stockmesh ${this.config.region.id} outbox listener` });
    this.listeners.set(db.name, client);
    let retried = false;
    const retry = (delayMs: number): void => {
      if (retried) return; // an error event and a failed connect may both report one drop
      retried = true;
      if (this.listeners.get(db.name) === client) this.listeners.delete(db.name);
      client.end().catch(() => undefined);
      if (!this.abort.signal.aborted) setTimeout(() => void this.listen(db), delayMs).unref();
    };
    client.on('notification', () => {
      const wake = this.wakers.get(db.name);
      if (wake) wake();
      else this.notified.add(db.name);
    });
    client.on('error', () => retry(POLL_MS));
    try {
      await client.connect();
      await client.query('LISTEN stockmesh_outbox');
    } catch {
      retry(POLL_MS * 4);
    }
  }
}
