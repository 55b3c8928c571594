import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@stockmesh/config';
import { MessageBus } from '@stockmesh/messaging';
import { Backoff } from './backoff.js';
import { topicSpecs } from './topic-specs.js';

/**
 * Creates the topics in the background at boot, retrying until the broker answers. The region
 * serves requests meanwhile (its writes wait in the outbox); relay and consumers start after.
 */
@Injectable()
export class TopicsReady implements OnApplicationBootstrap {
  private readonly logger = new Logger(TopicsReady.name);
  private done!: Promise<void>;
  private readonly abort = new AbortController();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly bus: MessageBus,
  ) {
    this.done = new Promise(() => undefined);
  }

  onApplicationBootstrap(): void {
    if (!this.config.replication.enabled) return;
    this.done = this.ensure();
    this.done.catch(() => undefined);
  }

  /** Resolves once the topics exist (never, if the region is stopping first). */
  async ready(signal: AbortSignal): Promise<void> {
    await Promise.race([this.done, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]);
  }

  stop(): void {
    this.abort.abort();
  }

  private async ensure(): Promise<void> {
    const backoff = new Backoff(500, 5_000);
    for (;;) {
      if (this.abort.signal.aborted) return new Promise(() => undefined);
      try {
        const admin = await this.bus.admin();
        try {
          await admin.ensureTopics(topicSpecs(this.config));
        } finally {
          await admin.close();
        }
        this.logger.log('Kafka topics are in place');
        return;
      } catch (error) {
        this.logger.warn({ msg: 'Kafka is not reachable yet; retrying', err: (error as Error).message });
        await backoff.wait(this.abort.signal);
      }
    }
  }
}
