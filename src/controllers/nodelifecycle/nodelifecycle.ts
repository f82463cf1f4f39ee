import { refOf } from '../../client/events.js';
import { R } from '../../client/factory.js';
import type { Informer } from '../../client/informer.js';
import { resourcePath } from '../../client/rest.js';
import { QueueController, inParallel, isNotFound, nowTime, type ControllerContext } from '../controller.js';
import { desiredTaints, observeHealth, readyCondition, reconcileTaints, staleConditions, type HealthRecord } from './health.js';

export interface NodeLifecycleOptions {
  /** How often every node is checked (upstream --node-monitor-period, 5 s). */
  monitorPeriodMs?: number;
  /** Silence after which a node is Unknown (upstream --node-monitor-grace-period, 40 s). */
  gracePeriodMs?: number;
  /** The same for a node that never posted status (upstream 60 s). */
  startupGracePeriodMs?: number;
}

/**
 * The node lifecycle controller: watches each node's status heartbeats and its Lease in
 * kube-node-lease; a node silent for the grace period gets its conditions set to Unknown and its
 * pods marked not Ready; condition taints (not-ready/unreachable NoSchedule+NoExecute, pressure,
 * unschedulable) follow the conditions. Evicting pods off NoExecute taints is the taint eviction
 * controller's job.
 */
export class NodeLifecycleController extends QueueController {
  private readonly nodes: Informer;
  private readonly leases: Informer;
  private readonly pods: Informer;
  private readonly health = new Map<string, HealthRecord>();
  private readonly o: Required<NodeLifecycleOptions>;
  private readonly recorder;
  private timer: unknown;

  constructor(ctx: ControllerContext, opts: NodeLifecycleOptions = {}) {
    super(ctx, 'node-lifecycle-controller', 4);
    this.o = { monitorPeriodMs: opts.monitorPeriodMs ?? 5000, gracePeriodMs: opts.gracePeriodMs ?? 40_000, startupGracePeriodMs: opts.startupGracePeriodMs ?? 60_000 };
    this.nodes = ctx.informers.for(R.nodes);
    this.leases = ctx.informers.for({ ...R.leases, namespace: 'kube-node-lease' });
    this.pods = ctx.informers.for(R.pods);
    this.recorder = ctx.recorder('node-controller');
    // Upstream's RecordNodeEvent: "Node NAME event: …" on each node the controller comes to know or loses.
    const nodeEvent = (n: any, reason: string, what: string) => this.recorder.event(refOf(n, 'Node', 'v1'), 'Normal', reason, `Node ${n.metadata.name} event: ${what}`);
    this.nodes.addHandlers({
      add: (n) => {
        nodeEvent(n, 'RegisteredNode', `Registered Node ${n.metadata.name} in Controller`);
        this.enqueue(n);
      },
      update: (_o, n) => this.enqueue(n),
      delete: (n) => {
        this.health.delete(n.metadata.name);
        nodeEvent(n, 'RemovingNode', `Removing Node ${n.metadata.name} from Controller`);
      },
    });
    this.leases.addHandlers({ add: (l) => this.enqueue(l.metadata.name), update: (_o, l) => this.enqueue(l.metadata.name) });
  }

  override run(): void {
    super.run();
    const tick = () => {
      for (const n of this.nodes.list()) this.enqueue(n.metadata.name);
      this.timer = this.ctx.clock.setTimeout(tick, this.o.monitorPeriodMs);
    };
    tick();
  }

  override stop(): void {
    if (this.timer !== undefined) this.ctx.clock.clearTimeout(this.timer);
    super.stop();
  }

  protected async reconcile(name: string): Promise<void> {
    const cached = this.nodes.get(name);
    if (!cached) return;
    const now = this.ctx.clock.now();
    const rec = observeHealth(this.health.get(name), cached, this.leases.get(`kube-node-lease/${name}`), now);
    this.health.set(name, rec);
    let node = cached;
    const wasReady = readyCondition(node)?.status === 'True';
    const conds = staleConditions(node, rec, now, this.o.gracePeriodMs, this.o.startupGracePeriodMs, nowTime(this.ctx.clock));
    if (conds) {
      node = await this.ctx.client.update(resourcePath('', 'v1', 'nodes', undefined, name, 'status'), { ...node, status: { ...node.status, conditions: conds } });
      this.ctx.log(`node-lifecycle: node ${name} stopped posting status; marked Unknown`);
      if (wasReady) await this.markPodsNotReady(name);
    }
    const taints = reconcileTaints(node.spec?.taints, desiredTaints(node), nowTime(this.ctx.clock));
    if (taints) {
      const copy = structuredClone(node);
      copy.spec = { ...(copy.spec ?? {}), taints };
      if (!taints.length) delete copy.spec.taints;
      try {
        await this.ctx.client.update(resourcePath('', 'v1', 'nodes', undefined, name), copy);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    // Look again when the grace period would run out.
    this.enqueueAfter(name, Math.max(100, rec.probeTimestamp + this.o.gracePeriodMs - now + 50));
  }

  /** Pods on a node gone silent are no longer Ready (upstream's MarkPodsNotReady), so endpoints drop them. */
  private async markPodsNotReady(node: string): Promise<void> {
    const pods = this.pods.list().filter((p) => p.spec?.nodeName === node && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'));
    const t = nowTime(this.ctx.clock);
    await inParallel(pods, 8, async (p) => {
      const conditions = (p.status.conditions as any[]).map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: t } : c));
      try {
        await this.ctx.client.patch(resourcePath('', 'v1', 'pods', p.metadata.namespace, p.metadata.name, 'status'), { status: { conditions } }, 'strategic');
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    });
  }
}
