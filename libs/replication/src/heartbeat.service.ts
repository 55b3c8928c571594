import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, Clock, type AppConfig } from '@stockmesh/config';
import { EVENT_TYPES, newEvent, parseEvent, PoisonEventError, TOPICS, toKafkaRecord, type RegionHeartbeatData } from '@stockmesh/contracts';
import { MessageBus, type BatchConsumer, type MessageBatch } from '@stockmesh/messaging';
import { randomUUID } from 'node:crypto';
import { LazyPublisher } from './lazy-publisher.js';
import { OutboxRelay } from './outbox-relay.service.js';
import { PublishedOffsets } from './published-offsets.js';
import { ReplicationStatus } from './replication-status.service.js';
import { TopicsReady } from './topics-ready.service.js';

/**
 * Every instance announces, each `heartbeatMs`, the last offsets it published to the stock
 * topic; every instance of every region listens (a consumer group of its own, from the latest
 * record) and feeds `ReplicationStatus`. Heartbeats are best effort: a lost one only delays
 * the lag figure, and silence is what marks a region stale.
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private readonly instance = randomUUID();
  private readonly abort = new AbortController();
  private readonly publisher: LazyPublisher;
  private consumer?: BatchConsumer;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly bus: MessageBus,
    private readonly published: PublishedOffsets,
    private readonly relay: OutboxRelay,
    private readonly status: ReplicationStatus,
    private readonly topics: TopicsReady,
    private readonly clock: Clock,
  ) {
    this.publisher = new LazyPublisher(bus);
  }

  onApplicationBootstrap(): void {
    if (!this.config.replication.enabled) return;
    void this.topics.ready(this.abort.signal).then(() => {
      if (this.abort.signal.aborted) return;
      this.schedule();
      void this.listen();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    await this.consumer?.stop().catch(() => undefined);
    await this.publisher.close();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.beat()
        .catch((error: unknown) => {
          this.logger.debug({ msg: 'heartbeat not sent', err: (error as Error).message });
        })
        .finally(() => {
          if (!this.abort.signal.aborted) this.schedule();
        });
    }, this.config.replication.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const region = this.config.region.id;
    const data: RegionHeartbeatData = {
      region,
      instance: this.instance,
      stockOffsets: this.published.of(TOPICS.stock),
      outboxPending: await this.relay.pending(),
    };
    const event = newEvent({
      source: region,
      type: EVENT_TYPES.regionHeartbeat,
      time: new Date(this.clock.now()).toISOString(),
      subject: `regions/${region}`,
      data,
    });
    const record = toKafkaRecord(event, region);
    await this.publisher.publish([{ topic: TOPICS.heartbeat, partition: 0, ...record }]);
  }

  private async listen(): Promise<void> {
    this.consumer = this.bus.consumer({
      groupId: `stockmesh.heartbeat.${this.config.region.id}.${this.instance}`,
      topics: [TOPICS.heartbeat],
      fromBeginning: false,
      maxWaitMs: this.config.kafka.maxWaitMs,
    });
    await this.consumer
      .start(async (batch: MessageBatch) => {
        for (const message of batch.messages) {
          try {
            const event = parseEvent(message, [EVENT_TYPES.regionHeartbeat]);
            this.status.heartbeat(event.data, Date.parse(event.time));
          } catch (error) {
            if (!(error instanceof PoisonEventError)) throw error;
            this.logger.warn({ msg: 'ignoring a malformed heartbeat', offset: message.offset, reason: error.reason });
          }
        }
        return undefined;
      })
      .catch((error: unknown) => this.logger.warn({ msg: 'heartbeat listener failed to start', err: (error as Error).message }));
  }
}
