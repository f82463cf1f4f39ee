import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Component } from '../cluster/component.js';
import { EventRecorder, refOf } from '../client/events.js';
import { R, SharedInformerFactory } from '../client/factory.js';
import { keyOf, type Informer } from '../client/informer.js';
import { LeaderElector } from '../client/leaderelection.js';
import { ApiError, type RestClient } from '../client/rest.js';
import { defaultConfig, loadConfigFile, parseConfig, type SchedulerConfig } from './config.js';
import { SchedulerCore, type SchedulerApi } from './core.js';
import { EventSink } from './eventsink.js';
import { compileLabelSelector, type Matcher } from './labels.js';
import { inTreeRegistry, type Registry } from './registry.js';
import type { Pod } from './types.js';
import { SELECTED_NODE_ANNOTATION, type VolumeLister } from './plugins/volumebinding/volumebinding.js';

export interface SchedulerOptions {
  /** A KubeSchedulerConfiguration file (YAML or JSON). */
  configFile?: string;
  /** Or the configuration itself (already parsed). */
  config?: SchedulerConfig | object;
  /** Overrides the config's leaderElection.leaderElect. */
  leaderElect?: boolean;
  identity?: string;
  registry?: Registry;
  log?: (msg: string) => void;
  maxInFlightBindings?: number;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The kube-scheduler equivalent: informers feed the core; the loop runs while this instance leads. */
export class Scheduler implements Component {
  readonly name = 'scheduler';
  readonly core: SchedulerCore;
  private readonly factory: SharedInformerFactory;
  private readonly pods: Informer<Pod>;
  private readonly config: SchedulerConfig;
  private readonly recorder: EventRecorder;
  readonly events: EventSink<{ obj: ReturnType<typeof refOf>; type: 'Normal' | 'Warning'; reason: string; message: string }>;
  private elector?: LeaderElector;
  private running = false;
  private loopDone?: Promise<void>;
  private wake?: () => void;
  private readonly log: (m: string) => void;
  readonly identity: string;
  /** Filled at start from the informers of whichever of PVC/PV/StorageClass the API server serves. */
  private readonly volumes = new InformerVolumes();

  constructor(
    private readonly client: RestClient,
    private readonly o: SchedulerOptions = {},
  ) {
    this.log = o.log ?? (() => undefined);
    this.config = o.configFile ? loadConfigFile(o.configFile) : o.config ? ('profiles' in o.config && Array.isArray((o.config as any).profiles) && (o.config as any).profiles[0]?.points ? (o.config as SchedulerConfig) : parseConfig(o.config)) : defaultConfig();
    this.identity = o.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
    this.factory = new SharedInformerFactory(client);
    this.pods = this.factory.for<Pod>(R.pods);
    const nodes = this.factory.for(R.nodes);
    const namespaces = this.factory.for(R.namespaces);
    const pdbs = this.factory.for(R.poddisruptionbudgets);
    const services = this.factory.for(R.services);
    const rss = this.factory.for(R.replicasets);
    const sss = this.factory.for(R.statefulsets);
    const rcs = this.factory.for({ group: '', version: 'v1', resource: 'replicationcontrollers' });
    // Repeats (a pod's FailedScheduling on every retry) form a series refreshed every 30 minutes, as upstream's events.k8s.io recorder.
    this.recorder = new EventRecorder(client, { component: this.config.profiles[0]?.schedulerName ?? 'default-scheduler', host: this.identity }, { seriesWindowMs: 30 * 60_000 });
    this.events = new EventSink((e) => this.recorder.record(e.obj, e.type, e.reason, e.message));
    const api = this.makeApi();
    this.core = new SchedulerCore({
      config: this.config,
      registry: o.registry ?? inTreeRegistry(),
      api,
      maxInFlightBindings: o.maxInFlightBindings,
      world: {
        pod: (key) => this.pods.get(key),
        namespaceLabels: (ns) => namespaces.get(ns)?.metadata?.labels,
        pdbs: () => pdbs.list(),
        selectorsFor: (pod) => selectorsFor(pod, services.list(), rcs.list(), rss.list(), sss.list()),
        volumes: this.volumes,
      },
    });
    const c = this.core;
    const kick = () => this.wake?.();
    this.pods.addHandlers({
      add: (p) => (c.onPodAdd(p), kick()),
      update: (a, b) => (c.onPodUpdate(a, b), kick()),
      delete: (p) => (c.onPodDelete(p), kick()),
    });
    nodes.addHandlers({
      add: (n) => (c.onNodeAdd(n), kick()),
      update: (a, b) => (c.onNodeUpdate(a, b), kick()),
      delete: (n) => (c.onNodeDelete(n), kick()),
    });
  }

  /**
   * Watches PVCs, PVs and StorageClasses when the API server serves them (discovery); when it does
   * not, VolumeBinding lets pods through (claims cannot exist) and says so once in the log.
   */
  private async watchVolumes(): Promise<void> {
    const served = async (gv: string, resource: string) => {
      try {
        const list: any = await this.client.get(gv);
        return (list.resources ?? []).some((r: any) => r.name === resource);
      } catch {
        return false;
      }
    };
    const [claims, classes] = await Promise.all([served('/api/v1', 'persistentvolumeclaims'), served('/apis/storage.k8s.io/v1', 'storageclasses')]);
    const c = this.core;
    const kick = () => this.wake?.();
    const on = (resource: 'PersistentVolumeClaim' | 'PersistentVolume' | 'StorageClass') => ({
      add: (o: any) => (c.queue.moveAllOnEvent({ resource, action: 'Add', newObj: o }), kick()),
      update: (a: any, b: any) => (c.queue.moveAllOnEvent({ resource, action: 'Update', oldObj: a, newObj: b }), kick()),
    });
    if (claims) {
      const pvcs = this.factory.for({ group: '', version: 'v1', resource: 'persistentvolumeclaims' });
      const pvs = this.factory.for({ group: '', version: 'v1', resource: 'persistentvolumes' });
      pvcs.addHandlers(on('PersistentVolumeClaim'));
      pvs.addHandlers(on('PersistentVolume'));
      this.volumes.claims = pvcs;
      this.volumes.pvInformer = pvs;
    } else this.log('scheduler: the API server does not serve persistentvolumeclaims; VolumeBinding checks nothing');
    if (classes) {
      const scs = this.factory.for({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' });
      scs.addHandlers(on('StorageClass'));
      this.volumes.classes = scs;
    } else this.log('scheduler: the API server does not serve storage.k8s.io/v1 storageclasses; unbound claims count as Immediate');
  }

  private makeApi(): SchedulerApi {
    const client = this.client;
    const podPath = (p: Pod, sub?: string) => `/api/v1/namespaces/${p.metadata!.namespace}/pods/${p.metadata!.name}${sub ? `/${sub}` : ''}`;
    return {
      bind: async (pod, node) => {
        await client.create(podPath(pod, 'binding'), {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: pod.metadata!.name, namespace: pod.metadata!.namespace, uid: pod.metadata!.uid },
          target: { apiVersion: 'v1', kind: 'Node', name: node },
        });
      },
      updateStatus: async (pod, cond, nominated) => {
        const status: any = {
          conditions: [{ type: 'PodScheduled', status: 'False', reason: cond.reason, message: cond.message, lastProbeTime: null, lastTransitionTime: now() }],
        };
        if (nominated !== undefined) status.nominatedNodeName = nominated || null;
        try {
          await client.patch(podPath(pod, 'status'), { status }, 'strategic');
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 404)) throw e;
        }
      },
      clearNominatedNodeName: async (pod) => {
        await client.patch(podPath(pod, 'status'), { status: { nominatedNodeName: null } }, 'merge');
      },
      preemptVictim: async (victim, preemptor, node) => {
        const schedulerName = preemptor.spec?.schedulerName || 'default-scheduler';
        try {
          await client.patch(
            podPath(victim, 'status'),
            { status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: `${schedulerName}: preempting to accommodate a higher priority pod`, lastTransitionTime: now() }] } },
            'strategic',
          );
          await client.request('DELETE', podPath(victim), { body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: victim.metadata!.uid } } });
        } catch (e) {
          if (!(e instanceof ApiError && (e.status === 404 || e.status === 409))) throw e;
          return;
        }
        this.events.push({ obj: refOf(victim, 'Pod', 'v1'), type: 'Normal', reason: 'Preempted', message: `Preempted by pod ${preemptor.metadata!.uid} on node ${node}` });
      },
      event: (pod, type, reason, message) => this.events.push({ obj: refOf(pod, 'Pod', 'v1'), type, reason, message }),
      bindPodVolumes: async (_pod, node, d) => {
        // As upstream's BindPodVolumes (without waiting for the PV controller to finish): reserve the
        // chosen PVs for their claims, and ask provisioners for volumes on the chosen node. The PV is
        // marked bound-by-controller, as upstream's GetBindVolumeToClaim does: the PV controller frees a
        // volume whose claim went away only when a controller, not a user, set its claimRef.
        for (const b of d.bindings) {
          const m = b.pvc.metadata;
          await client.patch(
            `/api/v1/persistentvolumes/${b.pv.metadata.name}`,
            { metadata: { annotations: { 'pv.kubernetes.io/bound-by-controller': 'yes' } }, spec: { claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: m.namespace, name: m.name, uid: m.uid } } },
            'merge',
          );
        }
        for (const pvc of d.provisions) {
          const m = pvc.metadata;
          await client.patch(`/api/v1/namespaces/${m.namespace}/persistentvolumeclaims/${m.name}`, { metadata: { annotations: { [SELECTED_NODE_ANNOTATION]: node } } }, 'merge');
        }
      },
    };
  }

  async start(): Promise<void> {
    await this.watchVolumes();
    await this.factory.start();
    const le = this.config.leaderElection;
    const elect = this.o.leaderElect ?? le.leaderElect;
    if (!elect) {
      this.startLoop();
      return;
    }
    this.elector = new LeaderElector(this.client, {
      namespace: le.resourceNamespace,
      name: le.resourceName,
      identity: this.identity,
      leaseDurationSeconds: le.leaseDurationSeconds,
      renewIntervalMs: Math.min(2000, (le.leaseDurationSeconds * 1000) / 3),
      onStartedLeading: () => {
        this.log(`scheduler ${this.identity}: leading`);
        this.startLoop();
      },
      onStoppedLeading: () => {
        this.log(`scheduler ${this.identity}: lost the lease`);
        void this.stopLoop();
      },
    });
    this.elector.start();
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : this.running;
  }

  private startLoop(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  private async stopLoop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loopDone;
  }

  /**
   * Runs scheduling cycles back to back, yielding to the event loop every few milliseconds so
   * informer events and binding responses are handled between cycles.
   */
  private async loop(): Promise<void> {
    const c = this.core;
    let last = performance.now();
    while (this.running) {
      await c.waitForBindingSlot();
      if (!this.running) break;
      if (!c.scheduleNext()) {
        await new Promise<void>((r) => {
          this.wake = r;
          // Backoff timers move pods to activeQ without an informer event.
          setTimeout(r, 50).unref?.();
        });
        this.wake = undefined;
        last = performance.now();
        continue;
      }
      const t = performance.now();
      if (t - last > 5) {
        await new Promise((r) => setImmediate(r));
        last = performance.now();
      }
    }
  }

  async stop(): Promise<void> {
    await this.stopLoop();
    await this.elector?.stop();
    this.factory.stop();
    this.core.close();
  }
}

/** Read access to whichever volume informers run; not served means nothing to check. */
class InformerVolumes implements VolumeLister {
  claims?: Informer<any>;
  pvInformer?: Informer<any>;
  classes?: Informer<any>;
  get served(): boolean {
    return !!this.claims;
  }
  pvc(ns: string, name: string) {
    return this.claims?.get(`${ns}/${name}`);
  }
  pv(name: string) {
    return this.pvInformer?.get(name);
  }
  pvs() {
    return this.pvInformer?.list() ?? [];
  }
  storageClass(name: string) {
    return name ? this.classes?.get(name) : undefined;
  }
}

/** Selectors of the Services, ReplicationControllers, ReplicaSets and StatefulSets that select the pod: the default spreading group. */
export function selectorsFor(pod: Pod, services: any[], rcs: any[], rss: any[], sss: any[]): Matcher[] {
  const ns = pod.metadata?.namespace;
  const labels = pod.metadata?.labels;
  if (!labels) return [];
  const out: Matcher[] = [];
  const mapSel = (sel: Record<string, string> | undefined) => (sel && Object.keys(sel).length ? compileLabelSelector({ matchLabels: sel }) : undefined);
  for (const s of services) {
    if (s.metadata?.namespace !== ns) continue;
    const m = mapSel(s.spec?.selector);
    if (m && m(labels)) out.push(m);
  }
  for (const r of rcs) {
    if (r.metadata?.namespace !== ns) continue;
    const m = mapSel(r.spec?.selector);
    if (m && m(labels)) out.push(m);
  }
  for (const r of [...rss, ...sss]) {
    if (r.metadata?.namespace !== ns || !r.spec?.selector) continue;
    const m = compileLabelSelector(r.spec.selector);
    if (m(labels)) out.push(m);
  }
  return out;
}

/** The scheduler as a component for `skiff up` and tests. */
export function createScheduler(client: RestClient, opts: SchedulerOptions = {}): Scheduler {
  return new Scheduler(client, opts);
}

export { keyOf };
