/**
 * One worker over a de-duplicating set of keys, for the controllers that live inside the API
 * server and read its cache (the aggregator's, the FlowSchema status one): a key queued again
 * while waiting runs once, and each run reconciles from current state, never from the event.
 */
export class SerialQueue {
  private readonly pending = new Set<string>();
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly reconcile: (key: string) => Promise<void>,
    private readonly onError: (key: string, e: unknown) => void,
  ) {}

  add(key: string | undefined): void {
    if (!key || this.stopped) return;
    this.pending.add(key);
    if (!this.running) this.running = this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves once nothing is queued or running (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
  }

  private async drain(): Promise<void> {
    while (this.pending.size && !this.stopped) {
      const key = this.pending.values().next().value as string;
      this.pending.delete(key);
      try {
        await this.reconcile(key);
      } catch (e) {
        if (!this.stopped) this.onError(key, e);
      }
    }
  }
}
