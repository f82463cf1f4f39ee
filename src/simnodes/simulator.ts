import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import type { Component } from '../cluster/component.js';
import { R } from '../client/factory.js';
import { Informer, keyOf } from '../client/informer.js';
import { LeaderElector } from '../client/leaderelection.js';
import { ApiError, type RestClient } from '../client/rest.js';
import { runWorkers, WorkQueue } from '../client/workqueue.js';
import { IPAllocator, indexOf, nodeIP, podCIDR } from './addressing.js';
import { nodeObject, nodeStatus, podAction, SIM_LABEL } from './lifecycle.js';
import { Pool } from './pool.js';

export interface SimulatedNodesOptions {
  /** Nodes to register at start (0: only manage simulated nodes that exist or get added). */
  count?: number;
  namePrefix?: string;
  /** Number of the first new node; default: one past the highest existing node with the prefix. */
  startIndex?: number;
  capacity?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: Taint[];
  /** Spread nodes over this many zones (topology.kubernetes.io/zone=zone-N). */
  zones?: number;
  leaseDurationSeconds?: number;
  /** How often each node's Lease is renewed; 0 creates no Leases (as scheduler_perf's static nodes). */
  leaseRenewMs?: number;
  /** How often the Ready condition's heartbeat is refreshed (kubelet's nodeStatusReportFrequency). */
  heartbeatMs?: number;
  /** Move bound pods to Running and finish deleting terminating ones (default true); 'delete-only' just finishes deletions. */
  runPods?: boolean | 'delete-only';
  /** API requests in flight at once. */
  concurrency?: number;
  /** Hold Lease kube-node-lease/skiff-node-simulator so one simulator manages the nodes (default true). */
  leaderElect?: boolean;
  identity?: string;
  log?: (msg: string) => void;
}

export const DEFAULT_CAPACITY = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '1Ti' };
export const SIMULATOR_LEASE = 'skiff-node-simulator';

interface Managed {
  name: string;
  ip: string;
  ips: IPAllocator;
}

function microTime(d = new Date()): string {
  return d.toISOString().replace('Z', '000Z');
}

/**
 * Simulated nodes, as kwok: registers Nodes that look like real kubelets' (capacity, labels,
 * taints, Ready), keeps their Leases and Ready heartbeat fresh, moves pods bound to them to
 * Running (IP from the node's pod range) and completes deletion of terminating pods. No process
 * is started: this is for testing schedulers and controllers at scale, and for benchmarks.
 */
export class SimulatedNodes implements Component {
  readonly name = 'simulated-nodes';
  private readonly nodes: Informer<Node>;
  private readonly pods: Informer<Pod>;
  private readonly managed = new Map<string, Managed>();
  private readonly queue = new WorkQueue<string>({ baseMs: 50, maxMs: 10_000 });
  private readonly podIPs = new Map<string, { node: string; ip: string; uid: string }>();
  private readonly pool: Pool;
  private readonly timers: NodeJS.Timeout[] = [];
  private elector?: LeaderElector;
  private leading = false;
  private workers?: Promise<void>;
  private stopped = false;
  private readonly log: (m: string) => void;
  /** Counters for benchmarks. */
  readonly stats = { registered: 0, running: 0, deleted: 0, leaseRenewals: 0 };

  constructor(
    private readonly client: RestClient,
    private readonly o: SimulatedNodesOptions = {},
  ) {
    this.log = o.log ?? (() => undefined);
    this.pool = new Pool(o.concurrency ?? 64);
    this.nodes = new Informer<Node>(client, { ...R.nodes, labelSelector: `${SIM_LABEL}=true` });
    this.pods = new Informer<Pod>(client, { ...R.pods, fieldSelector: 'spec.nodeName!=' });
    this.nodes.addHandlers({
      add: (n) => this.manage(n),
      update: (_o, n) => {
        this.manage(n);
        if (this.leading) this.checkReady(n);
      },
      delete: (n) => {
        this.managed.delete(n.metadata!.name!);
        this.leased.delete(n.metadata!.name!);
      },
    });
    const enqueue = (p: Pod) => {
      if (this.managed.has(p.spec?.nodeName ?? '')) this.queue.add(keyOf(p));
    };
    this.pods.addHandlers({
      add: enqueue,
      update: (_o, p) => enqueue(p),
      delete: (p) => {
        this.release(keyOf(p));
        this.stats.deleted++;
      },
    });
  }

  private manage(n: Node): void {
    const name = n.metadata!.name!;
    if (this.managed.has(name)) return;
    const cidr = n.spec?.podCIDR ?? podCIDR(indexOf(name) ?? this.managed.size);
    const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? nodeIP(indexOf(name) ?? this.managed.size);
    this.managed.set(name, { name, ip, ips: new IPAllocator(cidr) });
    // Pods may have been bound before the node was seen.
    if (this.pods.hasSynced) for (const p of this.pods.list()) if (p.spec?.nodeName === name) this.queue.add(keyOf(p));
  }

  /** Names of the simulated nodes this instance knows. */
  nodeNames(): string[] {
    return [...this.managed.keys()];
  }

  async start(): Promise<void> {
    await this.register();
    await this.nodes.start();
    if (this.o.leaderElect === false) {
      await this.startLeading();
      return;
    }
    await new Promise<void>((resolve) => {
      this.elector = new LeaderElector(this.client, {
        namespace: 'kube-node-lease',
        name: SIMULATOR_LEASE,
        identity: this.o.identity ?? `skiff-sim-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
        leaseDurationSeconds: 15,
        renewIntervalMs: 2000,
        onStartedLeading: () => void this.startLeading().then(resolve),
        onStoppedLeading: () => this.stopLeading(),
      });
      this.elector.start();
      // Another simulator already manages the nodes: we stand by without blocking startup.
      setTimeout(resolve, 3000).unref?.();
    });
  }

  private async register(): Promise<void> {
    this.stats.registered += (await registerSimulatedNodes(this.client, this.o, this.pool)).length;
  }

  private async startLeading(): Promise<void> {
    if (this.leading || this.stopped) return;
    this.leading = true;
    this.log('simulated nodes: managing');
    if (this.o.runPods === false) {
      // Nothing to do with pods: don't even watch them.
    } else await this.pods.start();
    if (this.o.runPods !== false) this.workers = runWorkers(this.queue, this.o.concurrency ?? 64, (k) => this.reconcile(k));
    for (const p of this.pods.list()) if (this.managed.has(p.spec?.nodeName ?? '')) this.queue.add(keyOf(p));
    const renew = this.o.leaseRenewMs ?? 10_000;
    if (renew > 0) {
      await this.renewLeases();
      this.every(renew, () => this.renewLeases());
    }
    this.every(this.o.heartbeatMs ?? 300_000, () => this.heartbeat());
    for (const n of this.nodes.list()) this.checkReady(n);
  }

  private stopLeading(): void {
    this.leading = false;
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  private every(ms: number, fn: () => Promise<void>): void {
    let busy = false;
    const t = setInterval(() => {
      if (busy) return;
      busy = true;
      void fn()
        .catch((e) => this.log(`simulated nodes: ${(e as Error).message}`))
        .finally(() => (busy = false));
    }, ms);
    t.unref?.();
    this.timers.push(t);
  }

  private async reconcile(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod) return;
    const m = this.managed.get(pod.spec?.nodeName ?? '');
    if (!m) return;
    if (this.o.runPods === 'delete-only' && !pod.metadata?.deletionTimestamp) return;
    const started = this.podIPs.get(key);
    if (started && started.uid !== pod.metadata?.uid) this.release(key);
    const path = `/api/v1/namespaces/${pod.metadata!.namespace}/pods/${pod.metadata!.name}`;
    const act = podAction(pod, new Date(), {
      hostIP: m.ip,
      podIP: () => {
        const prev = this.podIPs.get(key);
        if (prev && prev.uid === pod.metadata?.uid) return prev.ip;
        const ip = m.ips.allocate();
        if (ip) this.podIPs.set(key, { node: m.name, ip, uid: pod.metadata!.uid! });
        return ip;
      },
    });
    if (!act) return;
    try {
      if (act.kind === 'delete') {
        await this.pool.run(() => this.client.request('DELETE', path, { body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid } } }));
      } else {
        await this.pool.run(() => this.client.patch(`${path}/status`, { status: act.status }, 'merge'));
        this.stats.running++;
      }
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 409)) return;
      throw e;
    }
  }

  private release(key: string): void {
    const p = this.podIPs.get(key);
    if (!p) return;
    this.podIPs.delete(key);
    this.managed.get(p.node)?.ips.release(p.ip);
  }

  /** Nodes whose Lease this instance has seen or created: renewed with one patch, the others created with one POST. */
  private readonly leased = new Set<string>();

  /** Creates or renews every managed node's Lease in kube-node-lease, as the kubelet does. */
  private async renewLeases(): Promise<void> {
    const dur = this.o.leaseDurationSeconds ?? 40;
    const now = microTime();
    if (!this.leased.size) {
      // One list instead of a failing patch per node on the first round.
      const list: any = await this.client.get('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases').catch(() => ({ items: [] }));
      for (const l of list.items ?? []) if (this.managed.has(l.metadata?.name)) this.leased.add(l.metadata.name);
    }
    const create = async (name: string) => {
      const node = this.nodes.get(name);
      await this.client.create('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace: 'kube-node-lease', ownerReferences: node ? [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata!.uid }] : undefined },
        spec: { holderIdentity: name, leaseDurationSeconds: dur, renewTime: now },
      });
    };
    const patch = (name: string) => this.client.patch(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`, { spec: { holderIdentity: name, leaseDurationSeconds: dur, renewTime: now } }, 'merge');
    await Promise.all(
      [...this.managed.keys()].map((name) =>
        this.pool.run(async () => {
          // Create or patch, falling back to the other when the Lease was deleted or made meanwhile.
          const first = this.leased.has(name) ? patch : create;
          try {
            await first(name);
          } catch (e) {
            if (!(e instanceof ApiError && (e.status === 404 || e.status === 409))) throw e;
            await (first === patch ? create : patch)(name).catch((err) => {
              if (!(err instanceof ApiError && (err.status === 409 || err.status === 404))) throw err;
            });
          }
          this.leased.add(name);
          this.stats.leaseRenewals++;
        }),
      ),
    );
  }

  private async heartbeat(): Promise<void> {
    const now = new Date();
    await Promise.all(this.nodes.list().map((n) => this.pool.run(() => this.patchReady(n, now))));
  }

  /** Puts Ready back to True if something (a node lifecycle controller) changed it. */
  private checkReady(n: Node): void {
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') return;
    void this.pool.run(() => this.patchReady(n, new Date())).catch(() => undefined);
  }

  private async patchReady(n: Node, now: Date): Promise<void> {
    const name = n.metadata!.name!;
    const m = this.managed.get(name);
    const status = nodeStatus({ name, capacity: (n.status?.capacity as Record<string, string>) ?? DEFAULT_CAPACITY, ip: m?.ip ?? '' }, now);
    const prev = new Map((n.status?.conditions ?? []).map((c) => [c.type, c]));
    // Transition times only move when the status does.
    for (const c of status.conditions!) {
      const p = prev.get(c.type);
      if (p && p.status === c.status) c.lastTransitionTime = p.lastTransitionTime;
    }
    try {
      await this.client.patch(`/api/v1/nodes/${name}/status`, { status: { conditions: status.conditions } }, 'strategic');
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopLeading();
    await this.elector?.stop();
    this.queue.shutDown();
    this.nodes.stop();
    this.pods.stop();
    await this.workers;
  }
}

/**
 * Creates simulated Node objects (names continue after the highest existing one with the prefix);
 * a running simulator picks them up. Returns the names created.
 */
export async function registerSimulatedNodes(client: RestClient, o: SimulatedNodesOptions, pool = new Pool(o.concurrency ?? 64)): Promise<string[]> {
  const count = o.count ?? 0;
  if (!count) return [];
  const prefix = o.namePrefix ?? 'sim-node-';
  let start = o.startIndex;
  if (start === undefined) {
    const list: any = await client.get('/api/v1/nodes', { labelSelector: `${SIM_LABEL}=true` });
    start = 0;
    for (const n of list.items ?? []) {
      const name: string = n.metadata.name;
      if (name.startsWith(prefix)) start = Math.max(start, (indexOf(name) ?? -1) + 1);
    }
  }
  const now = new Date();
  const capacity = { ...DEFAULT_CAPACITY, ...o.capacity };
  const names: string[] = [];
  const jobs: Promise<void>[] = [];
  for (let i = start; i < start + count; i++) {
    const labels = { ...o.labels };
    if (o.zones) labels['topology.kubernetes.io/zone'] = `zone-${i % o.zones}`;
    const node = nodeObject({ name: `${prefix}${i}`, index: i, capacity, labels, taints: o.taints ?? [], ip: nodeIP(i), podCIDR: podCIDR(i) }, now);
    names.push(node.metadata!.name!);
    jobs.push(
      pool.run(async () => {
        try {
          const created: Node = await client.create('/api/v1/nodes', node);
          if (!created.status?.conditions?.length) await client.patch(`/api/v1/nodes/${node.metadata!.name}/status`, { status: node.status }, 'merge');
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409)) throw e;
        }
      }),
    );
  }
  await Promise.all(jobs);
  return names;
}

export function createSimulatedNodes(client: RestClient, opts: SimulatedNodesOptions = {}): SimulatedNodes {
  return new SimulatedNodes(client, opts);
}
