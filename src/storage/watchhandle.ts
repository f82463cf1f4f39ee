import type { Watch, WatchEvent, WatchOptions } from './backend.js';

/**
 * The consumer side of a backend watch, shared by every backend: delivers batches in order and
 * remembers the last revision delivered, fails at most once, and closes once. A consumer's exception
 * must neither stop delivery nor crash the server, so it is reported, not rethrown.
 */
export abstract class WatchHandle implements Watch {
  closed = false;

  constructor(
    /** Highest revision delivered (or known to hold nothing for this watch): where to resume. */
    public delivered: number,
    protected readonly opts: WatchOptions,
  ) {}

  deliver(events: WatchEvent[]): void {
    if (this.closed || events.length === 0) return;
    this.delivered = events[events.length - 1]!.kv.modRevision;
    try {
      this.opts.onEvents(events);
    } catch (err) {
      reportConsumerError(err);
    }
  }

  fail(err: Error): void {
    if (this.closed) return;
    this.close();
    try {
      this.opts.onError(err);
    } catch (e) {
      reportConsumerError(e);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
  }

  /** Stop feeding this watch (remove it from the backend's watcher set). */
  protected abstract detach(): void;
}

function reportConsumerError(err: unknown): void {
  console.error('skiff storage: a watch consumer threw; delivery continues:', err);
}
