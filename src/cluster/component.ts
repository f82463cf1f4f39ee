/**
 * A part of the cluster the executor runs (API server, scheduler, kubelet, …). Each starts only
 * after the ones before it are ready, and they stop in reverse order, as k3s composes its parts.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class Executor {
  private readonly started: Component[] = [];

  constructor(private readonly log: (msg: string) => void = () => undefined) {}

  async run(components: Component[]): Promise<void> {
    for (const c of components) {
      const t0 = performance.now();
      await c.start();
      this.started.push(c);
      this.log(`${c.name} ready in ${(performance.now() - t0).toFixed(0)} ms`);
    }
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
