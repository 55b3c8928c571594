import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { MessageBus } from '@stockmesh/messaging';
import { Backoff } from './backoff.js';
import { topicSpecs } from './topic-specs.js';

/**
 * Creates the topics in the background at boot, retrying until the broker answers. The region
 * serves requests meanwhile (its writes wait in the outbox); relay and consumers start after.
 * On shutdown the retry loop ends and its admin client is closed, so nothing outlives the app.
 */
@Injectable()
export class TopicsReady implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TopicsReady.name);
  /** Settles when the topics exist, or when the loop gave up because the region is stopping. */
  private loop: Promise<boolean> = Promise.resolve(false);
  private readonly abort = new AbortController();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly bus: MessageBus,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.replication.enabled) return;
    this.loop = this.ensure();
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** Resolves once the topics exist, or once `signal` aborts (the caller is stopping). */
  async ready(signal: AbortSignal): Promise<void> {
    // An aborted signal fires no more events: waiting on it would never end.
    if (signal.aborted) return;
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    const created = this.loop.then((made) => (made ? undefined : aborted));
    await Promise.race([created, aborted]);
  }

  /** True once the topics are in place; false when the region stopped first. */
  private async ensure(): Promise<boolean> {
    const backoff = new Backoff(500, 5_000);
    for (;;) {
      if (this.abort.signal.aborted) return false;
      try {
        // One connection attempt per round: this loop's backoff does the retrying and can stop.
        const admin = await this.bus.admin({ connectRetries: 0 });
        try {
          await admin.ensureTopics(topicSpecs(this.config));
        } finally {
          await admin.close();
        }
        this.logger.log('Kafka topics are in place');
        return true;
      } catch (error) {
        this.logger.warn({ msg: 'Kafka is not reachable yet; retrying', err: (error as Error).message });
        await backoff.wait(this.abort.signal);
      }
    }
  }
}
