/**
 * The kubelet's writes to the API server, in two lanes. Pod status goes first, a few requests at
 * a time (a burst of 100 pods must not open 100 TLS connections); Events and the journey
 * annotation wait until no status write is queued or in flight and no pod sync is running, as
 * upstream's event broadcaster is asynchronous and best effort. A low-priority write never waits
 * longer than `maxLowDelayMs`, so a node that is always busy still tells its story.
 */
export interface LaneOptions {
  /** Status writes in flight at once. */
  highConcurrency?: number;
  /** Low-priority writes in flight at once. */
  lowConcurrency?: number;
  /** How long the high lane must have been quiet before low-priority writes go (a burst's pods arrive over time). */
  quietMs?: number;
  /** The longest a low-priority write waits for the high lane to go quiet. */
  maxLowDelayMs?: number;
  /** Low-priority writes kept waiting; beyond it the newest are dropped (Events are best effort). */
  maxLowBacklog?: number;
  now?: () => number;
}

interface LowItem {
  run: () => Promise<unknown>;
  at: number;
}

export class WriteLanes {
  private readonly highConcurrency: number;
  private readonly lowConcurrency: number;
  private readonly maxLowDelayMs: number;
  private readonly maxLowBacklog: number;
  private readonly quietMs: number;
  private lastActive = 0;
  private readonly now: () => number;
  private highInFlight = 0;
  private readonly highWaiting: (() => void)[] = [];
  private lowInFlight = 0;
  private readonly lowWaiting: LowItem[] = [];
  private busyCount = 0;
  private timer?: NodeJS.Timeout;
  private timerAt = 0;
  private closed = false;

  constructor(o: LaneOptions = {}) {
    this.highConcurrency = o.highConcurrency ?? 8;
    this.lowConcurrency = o.lowConcurrency ?? 2;
    this.maxLowDelayMs = o.maxLowDelayMs ?? 2000;
    this.maxLowBacklog = o.maxLowBacklog ?? 1000;
    this.quietMs = o.quietMs ?? 200;
    this.now = o.now ?? Date.now;
  }

  /** Marks work (a pod sync) that may produce status writes: low-priority writes wait for it. */
  busy(): () => void {
    this.busyCount++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.busyCount--;
      this.lastActive = this.now();
      this.pump();
    };
  }

  /** A status write: runs as soon as a slot is free. */
  async high<T>(fn: () => Promise<T>): Promise<T> {
    if (this.highInFlight >= this.highConcurrency) await new Promise<void>((r) => this.highWaiting.push(r));
    this.highInFlight++;
    try {
      return await fn();
    } finally {
      this.highInFlight--;
      this.lastActive = this.now();
      const next = this.highWaiting.shift();
      if (next) next();
      else this.pump();
    }
  }

  /** A best-effort write (an Event, the journey): later, when the high lane is quiet. Never throws. */
  low(fn: () => Promise<unknown>): boolean {
    if (this.closed || this.lowWaiting.length >= this.maxLowBacklog) return false;
    this.lowWaiting.push({ run: fn, at: this.now() });
    this.pump();
    return true;
  }

  /** Low-priority writes not yet done (queued or in flight). */
  get pendingLow(): number {
    return this.lowWaiting.length + this.lowInFlight;
  }

  private idle(): boolean {
    return this.highInFlight === 0 && this.highWaiting.length === 0 && this.busyCount === 0;
  }

  private pump(): void {
    const now = this.now();
    const idle = this.idle();
    while (this.lowInFlight < this.lowConcurrency && this.lowWaiting.length) {
      const head = this.lowWaiting[0];
      if (!(idle && now - this.lastActive >= this.quietMs) && now - head.at < this.maxLowDelayMs) break;
      this.lowWaiting.shift();
      this.lowInFlight++;
      void head
        .run()
        .catch(() => undefined)
        .finally(() => {
          this.lowInFlight--;
          this.pump();
        });
    }
    // Come back when the lane has been quiet long enough, or when the oldest waiting write is due.
    if (this.lowWaiting.length && this.lowInFlight < this.lowConcurrency && !this.closed) {
      const overdue = this.lowWaiting[0].at + this.maxLowDelayMs;
      const at = idle ? Math.min(overdue, this.lastActive + this.quietMs) : overdue;
      if (this.timer && this.timerAt <= at) return;
      if (this.timer) clearTimeout(this.timer);
      this.timerAt = at;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, Math.max(1, at - now));
      this.timer.unref();
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lowWaiting.length = 0;
  }
}
