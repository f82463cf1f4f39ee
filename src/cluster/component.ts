/**
 * A part of the cluster the executor runs (API server, scheduler, kubelet, …). Each starts once the
 * components it needs are ready, and they stop in the reverse order they became ready, as k3s
 * composes its parts.
 */
export interface Component {
  readonly name: string;
  /**
   * Names of the components that must be ready before this one starts (from this run or an
   * earlier one). Absent: every component listed before it in the same run, one after another.
   * Components that only need the API server start side by side: most of their start-up is
   * waiting (leader election, informer syncs, worker processes), not CPU.
   */
  readonly after?: readonly string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class Executor {
  private readonly started: Component[] = [];
  private readonly ready = new Map<string, Promise<void>>();

  constructor(private readonly log: (msg: string) => void = () => undefined) {}

  /**
   * Starts the components, each when what it needs is ready. Rejects with the first failure once
   * every start in flight has settled, so `stop()` then stops exactly what came up.
   */
  async run(components: Component[]): Promise<void> {
    const starts: Promise<void>[] = [];
    for (const [i, c] of components.entries()) {
      const deps = c.after ?? components.slice(0, i).map((d) => d.name);
      // Only what is listed earlier (or ran before) can be needed: no cycles, no waiting forever.
      const missing = deps.find((d) => !this.ready.has(d));
      if (missing) {
        starts.push(Promise.reject(new Error(`component ${c.name} needs ${missing}, which is not started before it`)));
        break;
      }
      const needs = deps.map((d) => this.ready.get(d));
      const start = (async () => {
        await Promise.all(needs);
        const t0 = performance.now();
        await c.start();
        this.started.push(c);
        this.log(`${c.name} ready in ${(performance.now() - t0).toFixed(0)} ms`);
      })();
      this.ready.set(c.name, start);
      starts.push(start);
    }
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async stop(): Promise<void> {
    while (this.started.length) {
      const c = this.started.pop()!;
      try {
        await c.stop();
      } catch (e) {
        this.log(`${c.name} failed to stop cleanly: ${(e as Error).message}`);
      }
    }
  }
}
