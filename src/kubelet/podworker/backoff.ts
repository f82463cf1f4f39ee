import type { Clock } from '../../client/workqueue.js';

/**
 * client-go's flowcontrol.Backoff (10 s initial, 5 min cap), as the kubelet uses it twice: for
 * CrashLoopBackOff (counted from when the container last finished; the first restart is immediate)
 * and for image pulls (counted from the last failed pull). Each failure doubles the next wait; an
 * entry untouched for twice the cap starts over.
 */
export class Backoff {
  private readonly entries = new Map<string, { backoff: number; lastUpdate: number }>();

  constructor(
    private readonly clock: Clock,
    readonly initialMs = 10_000,
    readonly maxMs = 300_000,
  ) {}

  /** Whether a container that finished at `finishedAt` must still wait; and until when (IsInBackOffSince). */
  inBackoffSince(key: string, finishedAt: number): { waiting: boolean; until: number; backoffMs: number } {
    const e = this.entries.get(key);
    if (!e || this.expired(e, finishedAt)) return { waiting: false, until: 0, backoffMs: 0 };
    const until = finishedAt + e.backoff;
    return { waiting: this.clock.now() < until, until, backoffMs: e.backoff };
  }

  /** When the back-off that followed the last failure ends, if it has not yet (IsInBackOffSinceUpdate). */
  inBackoffSinceUpdate(key: string): number | undefined {
    const e = this.entries.get(key);
    const now = this.clock.now();
    if (!e || this.expired(e, now)) return undefined;
    return now - e.lastUpdate < e.backoff ? e.lastUpdate + e.backoff : undefined;
  }

  /** Records a failure (a restart, a failed pull): the next wait doubles. Returns that wait. */
  next(key: string, eventTime = this.clock.now()): number {
    const e = this.entries.get(key);
    const backoff = !e || this.expired(e, eventTime) ? this.initialMs : Math.min(e.backoff * 2, this.maxMs);
    this.entries.set(key, { backoff, lastUpdate: this.clock.now() });
    return backoff;
  }

  forget(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  private expired(e: { lastUpdate: number }, eventTime: number): boolean {
    return eventTime - e.lastUpdate > 2 * this.maxMs;
  }
}

/** "10s", "1m20s", "5m0s": Go's time.Duration String for whole seconds. */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${s % 60}s`;
}
