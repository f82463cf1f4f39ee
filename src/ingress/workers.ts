/**
 * The data plane on every core: node:cluster workers share the listening sockets (the kernel
 * spreads connections), each runs a DataPlane, and the primary pushes each configuration to all.
 */
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { DataPlaneConfig, DataPlaneOptions } from './dataplane.js';
import { IngressMetrics, type MetricsSnapshot } from './metrics.js';
import { serveMetrics } from './metricsserver.js';
import { LimitServer, type LimitRequest } from './limitgate.js';

export type WorkerMessage = LimitRequest | StatusMessage | StartError;

/** Sent by a worker whose DataPlane could not start (worker.ts), before it exits. */
interface StartError {
  type: 'error';
  code?: string;
  message: string;
  address?: string;
  port?: number;
}

interface StatusMessage {
  type: 'ready' | 'applied' | 'metrics';
  ports?: { http: number; https: number };
  generation?: number;
  id?: number;
  metrics?: MetricsSnapshot;
}

export class DataPlaneWorkers {
  private readonly workers = new Set<Worker>();
  private last?: DataPlaneConfig;
  private generation = 0;
  private stopping = false;
  private readonly acks = new Map<Worker, number>();
  private ackWaiters: { gen: number; resolve: () => void }[] = [];
  private readonly metricsWaiters = new Map<number, { want: Set<Worker>; got: MetricsSnapshot[]; resolve: (m: MetricsSnapshot[]) => void }>();
  private metricsId = 0;
  /** One set of TLS session ticket keys for all workers (see DataPlaneOptions.ticketKeys). */
  private readonly ticketKeys = randomBytes(48).toString('hex');
  /** limit-rps / limit-connections counters for all workers, as nginx's shared-memory zones. */
  private readonly limits = new LimitServer();
  private metricsServer?: { port: number; close(): Promise<void> };
  ports = { http: 0, https: 0, metrics: 0 };

  /** metricsPort is served by the primary, with every worker's counters merged. */
  constructor(private readonly opts: Omit<DataPlaneOptions, 'accessLog'> & { workers?: number }) {}

  async start(): Promise<void> {
    // Workers accept on the shared socket themselves rather than the primary handing connections over.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker.js', import.meta.url)), silent: false });
    const n = this.opts.workers ?? Math.max(1, availableParallelism());
    // Wait for every worker to be ready or gone: on a failure none is left running behind the rejection.
    const started = await Promise.allSettled(Array.from({ length: n }, () => this.fork()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
    if (this.opts.metricsPort !== undefined) {
      this.metricsServer = await serveMetrics(this.opts.metricsPort, this.opts.host ?? '0.0.0.0', () => this.metrics());
      this.ports.metrics = this.metricsServer.port;
    }
  }

  /** Every live worker's counters, merged, as Prometheus text. */
  async metrics(): Promise<string> {
    const id = ++this.metricsId;
    const want = new Set(this.workers);
    const snaps = await new Promise<MetricsSnapshot[]>((resolve) => {
      this.metricsWaiters.set(id, { want, got: [], resolve });
      for (const w of want) w.send({ type: 'metrics', id });
      // A worker that dies meanwhile is dropped from `want` (see fork); never wait for long.
      setTimeout(() => this.finishMetrics(id, true), 2000).unref();
    });
    return IngressMetrics.merge(snaps).render();
  }

  private finishMetrics(id: number, force = false): void {
    const m = this.metricsWaiters.get(id);
    if (!m || (m.want.size > 0 && !force)) return;
    this.metricsWaiters.delete(id);
    m.resolve(m.got);
  }

  private fork(): Promise<void> {
    // Same options in every worker: the primary keys shared listen handles by address and port as
    // requested, so port 0 resolves to one port for all. (Only one of the two ports may be 0, and
    // two DataPlaneWorkers in one process must not both ask for port 0: they would share it.)
    const { metricsPort: _served, ...workerOpts } = this.opts;
    workerOpts.ticketKeys ??= this.ticketKeys;
    const w = cluster.fork({ SKIFF_INGRESS_WORKER: JSON.stringify(workerOpts) });
    this.workers.add(w);
    let ready = false;
    let startError: Error | undefined;
    return new Promise((resolve, reject) => {
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'limit' || m.type === 'limit-release') {
          const reply = this.limits.handle(w, m);
          if (reply && w.isConnected()) w.send(reply);
        } else if (m.type === 'ready') {
          this.ports = { ...this.ports, http: m.ports!.http, https: m.ports!.https };
          if (this.last) w.send({ type: 'config', cfg: this.last, generation: this.generation });
          ready = true;
          resolve();
        } else if (m.type === 'error') {
          // Keep the code: `skiff up` tries another port pair on EADDRINUSE/EACCES (cluster/up.ts).
          const what = m.port !== undefined ? `cannot listen on ${m.address ?? this.opts.host ?? '0.0.0.0'}:${m.port}` : 'could not start';
          startError = Object.assign(new Error(`ingress worker ${what}: ${m.message}`), { code: m.code });
        } else if (m.type === 'metrics') {
          const waiting = this.metricsWaiters.get(m.id!);
          if (waiting?.want.delete(w)) waiting.got.push(m.metrics!);
          this.finishMetrics(m.id!);
        } else if (m.type === 'applied') {
          this.acks.set(w, m.generation!);
          this.checkAcks();
        }
      });
      w.on('exit', (code) => {
        // The process can be reported gone before its last messages ('ready', 'error') are read:
        // decide once the channel has closed.
        if (w.isConnected()) w.once('disconnect', () => gone(code));
        else gone(code);
      });
      const gone = (code: number) => {
        this.workers.delete(w);
        this.acks.delete(w);
        this.limits.workerGone(w);
        for (const [id, waiting] of this.metricsWaiters) if (waiting.want.delete(w)) this.finishMetrics(id);
        // A crashed worker comes back with the current config; one that never became ready would only
        // fail the same way again (a taken port), so start() reports it instead.
        if (ready) this.replace(0);
        reject(startError ?? new Error(`ingress worker exited with ${code} before it was ready`));
      };
    });
  }

  /**
   * Forks a worker in place of one that crashed. A replacement that fails to start is tried again,
   * after 1 s doubling to 30 s: with one worker, the data plane serves nothing until one runs.
   */
  private replace(delayMs: number): void {
    if (this.stopping) return;
    setTimeout(() => {
      if (this.stopping) return;
      this.fork().catch((e: Error) => {
        console.error(`skiff ingress: a replacement data-plane worker did not start (${e.message}); trying again`);
        this.replace(Math.min(30_000, Math.max(1000, delayMs * 2)));
      });
    }, delayMs).unref();
  }

  private checkAcks(): void {
    const min = Math.min(...[...this.workers].map((w) => this.acks.get(w) ?? 0));
    this.ackWaiters = this.ackWaiters.filter((x) => (x.gen <= min ? (x.resolve(), false) : true));
  }

  /** Process ids of the live workers (for benchmarks that count CPU time). */
  pids(): number[] {
    return [...this.workers].map((w) => w.process.pid!).filter((p) => p !== undefined);
  }

  apply(cfg: DataPlaneConfig): void {
    this.last = cfg;
    this.generation++;
    for (const w of this.workers) w.send({ type: 'config', cfg, generation: this.generation });
  }

  /** Resolves when every worker has applied the latest configuration. */
  applied(): Promise<void> {
    const gen = this.generation;
    return new Promise((resolve) => {
      this.ackWaiters.push({ gen, resolve });
      this.checkAcks();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.metricsServer?.close();
    await Promise.all(
      [...this.workers].map(
        (w) =>
          new Promise<void>((r) => {
            // Gone already (its exit seen, its channel not yet closed): nothing to wait for.
            if (w.isDead()) return r();
            w.once('exit', () => r());
            if (w.isConnected()) w.send({ type: 'stop' });
            setTimeout(() => w.process.kill('SIGKILL'), 3000).unref();
          }),
      ),
    );
  }
}
