import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type INestApplication,
  type INestMicroservice,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { AppConfig } from '@stockmesh/config';
import { TopicsReady } from '@stockmesh/replication';
import { setTimeout as sleep } from 'node:timers/promises';
import { commandsTransport } from './commands-transport.js';

/** How long shutdown waits for a command consumer that is still starting (joining its group). */
const START_SETTLE_MS = 15_000;

/**
 * Starts the region's command consumer (a Nest microservice connected to the region's app) once
 * the topics exist, retrying while the broker is away: like the replicator, it never keeps the
 * region from starting or serving. On shutdown the app closes the consumer before the
 * databases, after the record in hand is done.
 */
@Injectable()
export class CommandsListener implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(CommandsListener.name);
  private readonly abort = new AbortController();
  private server?: INestMicroservice;
  private running?: Promise<void>;

  constructor(private readonly topics: TopicsReady) {}

  /** Connects the command consumer to `app`; it starts with the app. */
  static connect(app: INestApplication, config: AppConfig): void {
    const listener = app.get(CommandsListener);
    listener.server = app.connectMicroservice(commandsTransport(config, () => listener.abort.signal.aborted));
  }

  onApplicationBootstrap(): void {
    if (this.server) this.running = this.listen(this.server);
  }

  /**
   * Stops the retries, then lets a consumer that is still starting finish starting before the app
   * closes it: Nest's `ServerKafka` closed mid-start carries on with the consumer it had (kafkajs's
   * `run()` connects it again), and those connections would outlive the app. Bounded, so that a
   * broker lost mid-start cannot hold the shutdown up for the length of kafkajs's retries.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.abort.abort();
    if (!this.running) return;
    const waited = new AbortController();
    const settled = await Promise.race([
      this.running.then(() => true),
      sleep(START_SETTLE_MS, false, { signal: waited.signal }).catch(() => false),
    ]).finally(() => waited.abort());
    if (!settled)
      this.logger.warn({ msg: 'the command consumer was still starting at shutdown; closing it anyway', waitedMs: START_SETTLE_MS });
  }

  async onApplicationShutdown(): Promise<void> {
    // Not waiting for `running` again: beforeApplicationShutdown waited as long as it is worth.
    // The app closed the consumer already; this closes one that was still connecting then.
    await this.server?.getTransportServer().close();
  }

  private async listen(server: INestMicroservice): Promise<void> {
    const signal = this.abort.signal;
    await this.topics.ready(signal);
    let delayMs = 500;
    while (!signal.aborted) {
      try {
        await server.listen();
        this.logger.log('consuming commands');
        return;
      } catch (error) {
        if (signal.aborted) return;
        this.logger.warn({ msg: 'could not start the command consumer; retrying', err: (error as Error).message });
        await Promise.resolve(server.getTransportServer().close()).catch(() => undefined);
        await sleep(delayMs, undefined, { signal }).catch(() => undefined);
        delayMs = Math.min(delayMs * 2, 5_000);
      }
    }
  }
}
