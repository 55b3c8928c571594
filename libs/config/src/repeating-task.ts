/**
 * A background pass run over and over: the next one `intervalMs` after the previous one ended,
 * so two never overlap, and a failed pass is reported and followed by the next one as usual.
 * Its timer does not keep the process alive, and `stop()` waits for a pass that is running, so
 * nothing outlives the app that started it. Time inside a pass comes from the injected `Clock`;
 * this only paces the passes.
 */
export class RepeatingTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (error: Error) => void,
  ) {}

  /** True once `stop()` was called: a long pass checks it between batches and ends early. */
  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .then(
          () => undefined,
          (error: unknown) => this.onError(error instanceof Error ? error : new Error(String(error))),
        )
        .finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }
}
