import type { MessageBus, OutgoingMessage, PublishedPosition, Publisher } from '@stockmesh/messaging';

/**
 * A publisher connected on first use and replaced after any failed call: the next call gets a
 * fresh producer (a new producer id, so no sequence numbers of a batch that may have been
 * written are reused), and the failed one is closed rather than leaked.
 */
export class LazyPublisher {
  private current?: Promise<Publisher>;

  constructor(private readonly bus: MessageBus) {}

  async publish(messages: readonly OutgoingMessage[]): Promise<PublishedPosition[]> {
    const publisher = (this.current ??= this.bus.publisher());
    try {
      return await (await publisher).publish(messages);
    } catch (error) {
      if (this.current === publisher) {
        this.current = undefined;
        void publisher.then((p) => p.close()).catch(() => undefined);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    const publisher = this.current;
    this.current = undefined;
    await publisher?.then((p) => p.close()).catch(() => undefined);
  }
}
