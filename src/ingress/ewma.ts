/**
 * ingress-nginx's `load-balance: ewma`: each endpoint keeps an exponentially weighted moving
 * average of its response time (connect + response, decaying over 10 s); a request goes to the
 * better of two endpoints drawn at random (power of two choices). An endpoint seen for the first
 * time starts at the average of the others, as ingress-nginx does when endpoints change.
 */
const DECAY_MS = 10_000;

export class Ewma {
  private readonly avg = new Map<string, { ewma: number; at: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** The decayed average of `key` at `now`, without recording anything. */
  score(key: string): number {
    const e = this.entry(key);
    return e.ewma * Math.exp(-Math.max(0, this.now() - e.at) / DECAY_MS);
  }

  /** Records one response time of `key`, in seconds. */
  observe(key: string, seconds: number): void {
    const e = this.entry(key);
    const now = this.now();
    const w = Math.exp(-Math.max(0, now - e.at) / DECAY_MS);
    e.ewma = e.ewma * w + seconds * (1 - w);
    e.at = now;
  }

  /** The better of two random candidates (all of them when fewer). */
  pick<E extends { key: string }>(candidates: readonly E[]): E | undefined {
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j++;
    const a = candidates[i];
    const b = candidates[j];
    return this.score(b.key) < this.score(a.key) ? b : a;
  }

  private entry(key: string): { ewma: number; at: number } {
    let e = this.avg.get(key);
    if (!e) {
      let sum = 0;
      for (const x of this.avg.values()) sum += x.ewma;
      e = { ewma: this.avg.size ? sum / this.avg.size : 0, at: this.now() };
      this.avg.set(key, e);
    }
    return e;
  }
}
