import type { Clock } from '../../client/workqueue.js';

/**
 * The kubelet's CrashLoopBackOff (client-go flowcontrol.Backoff with 10 s initial, 5 min cap):
 * the first restart is immediate; each later one waits twice as long as the one before, counted
 * from when the container last finished. An entry untouched for twice the cap starts over.
 */
export class CrashBackoff {
  private readonly entries = new Map<string, { backoff: number; lastUpdate: number }>();

  constructor(
    private readonly clock: Clock,
    readonly initialMs = 10_000,
    readonly maxMs = 300_000,
  ) {}

  /** Whether a container that finished at `finishedAt` must still wait; and until when. */
  inBackoffSince(key: string, finishedAt: number): { waiting: boolean; until: number; backoffMs: number } {
    const e = this.entries.get(key);
    if (!e || this.expired(e, finishedAt)) return { waiting: false, until: 0, backoffMs: 0 };
    const until = finishedAt + e.backoff;
    return { waiting: this.clock.now() < until, until, backoffMs: e.backoff };
  }

  /** Records a restart: the next wait doubles. */
  next(key: string, finishedAt: number): void {
    const e = this.entries.get(key);
    const now = this.clock.now();
    if (!e || this.expired(e, finishedAt)) this.entries.set(key, { backoff: this.initialMs, lastUpdate: now });
    else this.entries.set(key, { backoff: Math.min(e.backoff * 2, this.maxMs), lastUpdate: now });
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
