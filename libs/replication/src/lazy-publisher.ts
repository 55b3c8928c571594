import type { MessageBus, OutgoingMessage, PublishedPosition, Publisher } from '@stockmesh/messaging';

/**
 * A publisher connected on first use and replaced after any failed call: the next call gets a
 * fresh producer (a new producer id, so no sequence numbers of a batch that may have been
 * written are reused), and the failed one is closed rather than leaked. Once closed it stays
 * closed: a publish that a background loop starts during shutdown fails instead of connecting a
 * producer that nothing would ever close.
 */
export class LazyPublisher {
  private current?: Promise<Publisher>;
  private closed = false;

  constructor(private readonly bus: MessageBus) {}

  async publish(messages: readonly OutgoingMessage[]): Promise<PublishedPosition[]> {
    if (this.closed) throw new Error('the publisher is closed: the region is shutting down');
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
    this.closed = true;
    const publisher = this.current;
    this.current = undefined;
    await publisher?.then((p) => p.close()).catch(() => undefined);
  }
}
