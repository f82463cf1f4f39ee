/**
 * The node agent (kubelet): registers the Node, renews its Lease, watches the pods bound to it,
 * runs one pod worker per pod, writes pods/status, finishes graceful deletions, records Events
 * and the pod journey, and serves the kubelet API (logs, exec) over TLS.
 */
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { refOf } from '../client/events.js';
import { KubeletEvents } from './events.js';
import { WriteLanes } from './lanes.js';
import { Informer, keyOf } from '../client/informer.js';
import { R } from '../client/factory.js';
import { ApiError, type RestClient } from '../client/rest.js';
import { realClock, type Clock } from '../client/workqueue.js';
import type { Component } from '../cluster/component.js';
import type { Runtime } from '../runtime/cri.js';
import { ProcessRuntime } from '../runtime/process/runtime.js';
import { Backoff } from './podworker/backoff.js';
import { PodWorker, inspectPod, type EventType, type PodEnvironment } from './podworker/worker.js';
import { ProbeManager } from './prober/manager.js';
import { runHook } from './hooks.js';
import { apiObjectSource, containerEnv, type NodeFacts } from './env.js';
import { VolumeManager } from './volumes.js';
import { KubeletServer, type ContainerRef } from './server.js';
import type { PortForwardTarget } from './portforward.js';
import { ImageManager } from './images.js';
import { NodeDockerKeyring } from '../images/dockerconfig.js';
import { NodeStatsCollector } from './nodestats.js';
import { collectStatsSummary } from '../runtime/containerd/summary.js';
import { DEFAULT_IMAGE_GC_POLICY, IMAGE_GC_PERIOD_MS, ImageGarbageCollector, validateImageGCPolicy, type ImageGCPolicy } from '../images/gc.js';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { kubeletServingCert } from './tls.js';
import { LEASE_RENEW_MS, machineResources, registerNode, renewLease, updateNodeStatus, type NodeOptions } from './node.js';
import { JOURNEY_ANNOTATION, Journey } from './journey.js';
import { podDNSConfig, type ClusterDNSSettings } from './dns.js';
import { runtimeHandlerFor } from './runtimeclass.js';
import type { PodNetwork } from '../network/pod/types.js';
import { loopbackAlias } from '../network/proxy/userspace.js';

const LOOPBACK_POLICY_MESSAGE = 'pods share the host network (loopback pod network, no root): NetworkPolicy is not enforced on this node';

export interface KubeletOptions {
  nodeName: string;
  dataDir: string;
  /** 'containerd' runs containerd under dataDir/containerd, or uses containerRuntimeEndpoint. */
  runtime: 'process' | 'containerd' | Runtime;
  /** CRI endpoint of an existing containerd or CRI-O (`unix:///run/containerd/containerd.sock`). */
  containerRuntimeEndpoint?: string;
  /** Registry mirrors for the containerd Skiff runs: host → endpoints (`docker.io` → [`http://127.0.0.1:5000`]). */
  registryMirrors?: Record<string, string[]>;
  /** Pod range of this node (default: the Node's spec.podCIDR, else 127.100.0.0/16 on loopback). */
  podCIDR?: string;
  /** Address reported as InternalIP and used as hostIP (default 127.0.0.1). */
  nodeIP?: string;
  /** Kubelet API port (default 10250; 0 picks a free one). */
  port?: number;
  /** The cluster CA that signs clients of the kubelet API (default: the CA of `client`). */
  caPem?: string;
  labels?: Record<string, string>;
  clock?: Clock;
  log?: (msg: string) => void;
  /** Resync interval for every pod (ms). */
  resyncMs?: number;
  /**
   * The pod network for the process runtime (cni / netns / loopback, see network/pod). It is
   * configured with the node's podCIDR (from this option or the Node's spec.podCIDR, once the
   * node IPAM controller has set it). Without it the process runtime gives legacy 127.x addresses.
   */
  network?: PodNetwork;
  /** Cluster DNS for ClusterFirst pods (kubelet --cluster-dns / --cluster-domain); off when absent. */
  dns?: ClusterDNSSettings;
  /** Image GC (not on the process runtime): collect unused images at or above this disk usage (default 85; 100 disables image GC). */
  imageGCHighThresholdPercent?: number;
  /** Image GC collects down to this disk usage (default 80). */
  imageGCLowThresholdPercent?: number;
  /** Unused images younger than this (ms) are never collected (default 2 minutes). */
  imageMinimumGCAge?: number;
  /** Unused images older than this (ms) are collected whatever the disk usage (default 0: off). */
  imageMaximumGCAge?: number;
}

interface Entry {
  worker: PodWorker;
  running: boolean;
  dirty: boolean;
  timer?: unknown;
  timerAt?: number;
  lastStatus?: string;
  finished?: boolean;
  /** When the kubelet first saw the pod (clock ms), until it turned Running (kubelet_pod_start_duration_seconds). */
  firstSeen?: number;
  /** The worker's next sync, as upstream labels kubelet_pod_worker_duration_seconds: the first is "create", one after an API update "update", else "sync". */
  op: 'create' | 'update' | 'sync';
}

export class Kubelet {
  readonly runtime: Runtime;
  readonly server: KubeletServer | undefined;
  node: any;
  private readonly clock: Clock;
  private readonly entries = new Map<string, Entry>();
  private informer?: Informer;
  private nodeInformer?: Informer;
  private podCIDR?: string;
  private readonly recorder: KubeletEvents;
  /** Status first; Events and the journey when the node is quiet (lanes.ts). */
  readonly lanes = new WriteLanes();
  private readonly probes: ProbeManager;
  private readonly backoff: Backoff;
  private readonly volumes: VolumeManager;
  private readonly journey: Journey;
  /** One image manager per node: pull back-off is per pod and image, pulls are shared. */
  private readonly images: ImageManager;
  /** The node's docker config credentials (re-read at most every 5 minutes), shared by all pods. */
  private readonly nodeKeyring: NodeDockerKeyring;
  private readonly nodeStats: NodeStatsCollector;
  private readonly imageGCPolicy: ImageGCPolicy;
  /** The image garbage collector, once started (none on the process runtime or with image GC disabled). */
  imageGC?: ImageGarbageCollector;
  /** Pod syncs wait until the runtime has been reconciled with the pods bound here (once, at start). */
  private holding = true;
  /** Services, for the environment variables of new containers (as upstream's kubelet service lister). */
  private services?: Informer<any>;
  private readonly nodeFacts: NodeFacts;
  private nodeOpts!: NodeOptions;
  private kserver?: KubeletServer;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe?: () => void;
  private stopped = false;
  private readonly log: (m: string) => void;

  constructor(
    private readonly client: RestClient,
    private readonly opts: KubeletOptions,
  ) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? (() => undefined);
    this.runtime =
      opts.runtime === 'process'
        ? new ProcessRuntime({ root: path.join(opts.dataDir, 'runtime'), podCIDR: opts.podCIDR, network: opts.network })
        : opts.runtime === 'containerd'
          ? lazyRuntime('containerd', async () => {
              const [{ containerdRuntime }, { containerdDir }] = await Promise.all([import('../runtime/containerd/runtime.js'), import('../runtime/containerd/supervisor.js')]);
              return containerdRuntime({ dir: containerdDir(opts.dataDir), podCIDR: opts.podCIDR, endpoint: opts.containerRuntimeEndpoint, mirrors: opts.registryMirrors, log: opts.log });
            })
          : opts.runtime;
    this.recorder = new KubeletEvents(client, { component: 'kubelet', host: opts.nodeName }, this.lanes);
    const { allocatable } = machineResources(opts.dataDir);
    this.nodeFacts = { nodeName: opts.nodeName, hostIP: opts.nodeIP ?? '127.0.0.1', allocatable: allocatable as any };
    this.probes = new ProbeManager({
      runtime: this.runtime,
      clock: this.clock,
      events: (pod, type, reason, message, fieldPath) => this.event(pod, type, reason, message, fieldPath),
      onChange: (uid) => this.schedule(uid),
      // The sandbox's IP, not the API's copy: a probe may run before the status with podIP is written.
      podIP: (uid) => {
        const w = this.entries.get(uid)?.worker;
        return this.reachableIP(w?.ip ?? w?.pod.status?.podIP ?? '');
      },
    });
    this.backoff = new Backoff(this.clock);
    const src = apiObjectSource(client);
    this.volumes = new VolumeManager(path.join(opts.dataDir, 'pods'), src, this.nodeFacts, client);
    this.journey = new Journey();
    this.images = new ImageManager(this.runtime, this.clock);
    this.nodeKeyring = new NodeDockerKeyring({ rootDir: opts.dataDir }, () => this.clock.now());
    this.nodeStats = new NodeStatsCollector(opts.dataDir);
    const d = DEFAULT_IMAGE_GC_POLICY;
    this.imageGCPolicy = {
      highThresholdPercent: opts.imageGCHighThresholdPercent ?? d.highThresholdPercent,
      lowThresholdPercent: opts.imageGCLowThresholdPercent ?? d.lowThresholdPercent,
      minAgeMs: opts.imageMinimumGCAge ?? d.minAgeMs,
      maxAgeMs: opts.imageMaximumGCAge ?? d.maxAgeMs,
    };
    // An invalid policy stops the kubelet at construction, as upstream's config validation does.
    const invalid = validateImageGCPolicy(this.imageGCPolicy);
    if (invalid) throw new Error(`kubelet: ${invalid}`);
    this.server = undefined;
  }

  get nodeName(): string {
    return this.opts.nodeName;
  }

  get port(): number {
    return this.kserver?.port ?? 0;
  }

  /** Where the kubelet reaches a pod IP: in loopback mode pods listen on its 127 alias. */
  private reachableIP(ip: string): string {
    return ip && this.opts.network?.mode === 'loopback' && this.runtime instanceof ProcessRuntime ? loopbackAlias(ip) : ip;
  }

  private event(pod: any, type: EventType, reason: string, message: string, fieldPath?: string): void {
    this.recorder.event(refOf(pod, 'Pod', 'v1', fieldPath), type, reason, message);
  }

  private env(): PodEnvironment {
    const src = apiObjectSource(this.client, this.services ? (ns) => this.services!.list().filter((svc: any) => svc.metadata?.namespace === ns) : undefined);
    return {
      setupVolumes: (pod) => this.volumes.setup(pod),
      teardownVolumes: (pod) => this.volumes.teardown(pod),
      emptyDirUsage: (pod) => this.volumes.emptyDirUsage(pod),
      containerEnv: async (pod, spec, podIP) => ({
        envs: await containerEnv(pod, spec, podIP, this.nodeFacts, src, (message) => this.event(pod, 'Warning', 'InvalidEnvironmentVariableNames', message)),
        mounts: this.volumes.mounts(pod, spec),
      }),
      runHook: (pod, spec, containerId, handler, podIP, timeoutSec) => runHook(this.runtime, pod, spec, containerId, handler, this.reachableIP(podIP), timeoutSec),
    };
  }

  async start(): Promise<void> {
    const o = this.opts;
    mkdirSync(o.dataDir, { recursive: true });
    if (o.runtime === 'containerd') await (this.runtime as Runtime & { start(): Promise<void> }).start();
    const nodeIP = o.nodeIP ?? '127.0.0.1';
    const cert = await kubeletServingCert(path.join(o.dataDir, 'pki'), o.nodeName, [nodeIP]);
    this.kserver = new KubeletServer(
      {
        runtime: this.runtime,
        findContainer: (ns, p, c, prev) => this.findContainer(ns, p, c, prev),
        portForwardTarget: (ns, p) => this.portForwardTarget(ns, p),
        statsSummary: () => this.statsSummary(),
        pods: () => this.informer?.list() ?? [],
      },
      { ...cert, caPem: o.caPem ?? this.client.config.caPem },
      o.nodeName,
    );
    const port = await this.kserver.start(nodeIP, o.port ?? 10250);
    const v = await this.runtime.version();
    const loopbackNet = o.network?.mode === 'loopback' && this.runtime instanceof ProcessRuntime;
    // Loopback mode cannot isolate pods: say so on the Node, never silently.
    const extraConditions = loopbackNet ? [{ type: 'NetworkPolicyNotEnforced', status: 'True', reason: 'LoopbackPodNetwork', message: LOOPBACK_POLICY_MESSAGE }] : undefined;
    this.nodeOpts = { nodeName: o.nodeName, nodeIP, dataDir: o.dataDir, podCIDR: o.podCIDR, kubeletPort: port, runtimeVersion: `${this.runtime.name}://${v.runtimeVersion}`, labels: o.labels, extraConditions };
    // Upstream's kubelet names its Node by name in its events (uid = name), as kubectl describe node expects.
    const nodeRef = { apiVersion: 'v1', kind: 'Node', name: o.nodeName, uid: o.nodeName };
    this.node = await registerNode(this.client, this.nodeOpts, (reason, message) => this.recorder.event(nodeRef, 'Normal', reason, message));
    if (loopbackNet) this.recorder.event(refOf(this.node, 'Node', 'v1'), 'Warning', 'NetworkPolicyNotEnforced', LOOPBACK_POLICY_MESSAGE);
    await this.applyPodCIDR(o.podCIDR ?? this.node.spec?.podCIDR);
    if (!o.podCIDR) {
      // The node IPAM controller may set spec.podCIDR after registration: watch our own Node.
      this.nodeInformer = new Informer(this.client, { ...R.nodes, fieldSelector: `metadata.name=${o.nodeName}` });
      const seen = (n: any) => void this.applyPodCIDR(n?.spec?.podCIDR).catch((e) => this.log(`pod CIDR: ${(e as Error).message}`));
      this.nodeInformer.addHandlers({ add: seen, update: (_o, n) => seen(n) });
      await this.nodeInformer.start();
    }
    await renewLease(this.client, o.nodeName, this.node.metadata?.uid).catch((e) => this.log(`lease: ${(e as Error).message}`));
    this.timers.push(
      setInterval(() => void renewLease(this.client, o.nodeName, this.node.metadata?.uid).catch((e) => this.log(`lease: ${(e as Error).message}`)), LEASE_RENEW_MS),
      setInterval(() => void updateNodeStatus(this.client, this.nodeOpts, this.node).then((n) => (this.node = n)).catch((e) => this.log(`node status: ${(e as Error).message}`)), 60_000),
      setInterval(() => {
        for (const uid of this.entries.keys()) this.schedule(uid);
      }, o.resyncMs ?? 10_000),
    );
    for (const t of this.timers) t.unref();

    // Container exits come as runtime events (the evented PLEG): sync that pod at once.
    const sandboxToUid = async (sandboxId: string) => (await this.runtime.podSandboxStatus(sandboxId).catch(() => undefined))?.metadata.uid;
    this.unsubscribe = this.runtime.getContainerEvents((ev) => {
      if (ev.containerEventType !== 'CONTAINER_STOPPED_EVENT') return;
      void sandboxToUid(ev.podSandboxId).then((uid) => uid && this.schedule(uid));
    });

    this.services = new Informer(this.client, R.services);
    await this.services.start();
    this.informer = new Informer(this.client, { ...R.pods, fieldSelector: `spec.nodeName=${o.nodeName}` });
    this.informer.addHandlers({
      add: (pod) => this.podUpdated(pod),
      update: (_old, pod) => this.podUpdated(pod),
      delete: (pod) => this.podDeleted(pod),
    });
    await this.informer.start();
    await this.reconcileRuntime();
    this.holding = false;
    for (const uid of this.entries.keys()) this.schedule(uid);
    await this.startImageGC();
  }

  /**
   * Once the pod informer has synced and before any pod syncs: the runtime releases sandboxes,
   * IPs and network namespaces of pods no longer bound here (a kubelet that was down missed their
   * deletion). Finished pods are not kept. Failures are logged: the pods still start.
   */
  private async reconcileRuntime(): Promise<void> {
    const rt = this.runtime as Runtime & { reconcile?: (keep: ReadonlySet<string>) => Promise<unknown> };
    if (typeof rt.reconcile !== 'function' || !this.informer) return;
    const keep = new Set<string>();
    for (const pod of this.informer.list() as any[]) {
      const phase = pod.status?.phase;
      if (phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata?.uid) keep.add(pod.metadata.uid);
    }
    try {
      await rt.reconcile(keep);
    } catch (e) {
      this.log(`kubelet: runtime reconcile: ${(e as Error).message}`);
    }
  }

  /** Image GC (upstream's image manager) every IMAGE_GC_PERIOD_MS; the process runtime has no images. */
  private async startImageGC(): Promise<void> {
    if (this.runtime instanceof ProcessRuntime || this.stopped) return;
    const rt = this.runtime as Runtime & { imageFsInfo?: () => Promise<{ mountpoint: string }[]> };
    const imageFsPath = typeof rt.imageFsInfo === 'function' ? (await rt.imageFsInfo().catch(() => []))[0]?.mountpoint : undefined;
    const { PAUSE_IMAGE } = await import('../images/testimages.js');
    const gc = new ImageGarbageCollector({
      runtime: this.runtime,
      imageFsPath,
      pinned: () => new Set([PAUSE_IMAGE]),
      policy: this.imageGCPolicy,
      now: () => this.clock.now(),
      event: (type, reason, message) => this.recorder.event(refOf(this.node, 'Node', 'v1'), type, reason, message),
      log: this.log,
    });
    if (!gc.enabled) return;
    this.imageGC = gc;
    // The first detection dates the images already there (their age counts from now, as upstream's).
    void gc.detect().catch((e) => this.log(`image GC: ${(e as Error).message}`));
    let running = false;
    const t = setInterval(() => {
      if (running || this.stopped) return;
      running = true;
      void gc
        .garbageCollect()
        .then((r) => r.error && this.log(`image GC: ${r.error}`))
        .catch((e) => this.log(`image GC: ${(e as Error).message}`))
        .finally(() => (running = false));
    }, IMAGE_GC_PERIOD_MS);
    t.unref();
    this.timers.push(t);
  }

  /** Hands a (new) podCIDR to the runtime, which configures its pod network from it, as CRI's UpdateRuntimeConfig. */
  private async applyPodCIDR(cidr: string | undefined): Promise<void> {
    if (!cidr || cidr === this.podCIDR) return;
    await this.runtime.updateRuntimeConfig({ networkConfig: { podCidr: cidr } });
    this.podCIDR = cidr;
    this.log(`kubelet: pod CIDR ${cidr}${this.opts.network ? ` (${this.opts.network.mode} network)` : ''}`);
    // Pods waiting for a sandbox (no network yet) retry now rather than at their backoff.
    for (const uid of this.entries.keys()) this.schedule(uid);
  }

  private podUpdated(pod: any): void {
    if (this.stopped) return;
    const uid = pod.metadata.uid;
    let e = this.entries.get(uid);
    if (!e) {
      // A pod already finished before we saw it needs nothing but cleanup of its API object.
      this.journey.record(pod, 'seen', this.clock.now());
      e = { worker: new PodWorker(this.workerDeps(), pod), running: false, dirty: false, op: 'create' };
      // A pod already Running when first seen (an agent restart) did not start now: not counted, as upstream.
      if (pod.status?.phase !== 'Running') e.firstSeen = this.clock.now();
      this.entries.set(uid, e);
    } else {
      // The watch echoing our own status write: the worker already has this version, nothing to do.
      const same = pod.metadata.resourceVersion && pod.metadata.resourceVersion === e.worker.pod?.metadata?.resourceVersion;
      e.worker.pod = pod;
      if (same) return;
      if (e.op === 'sync') e.op = 'update';
    }
    this.schedule(uid);
  }

  private podDeleted(pod: any): void {
    const e = this.entries.get(pod.metadata.uid);
    if (!e || e.finished) return;
    this.entries.delete(pod.metadata.uid);
    if (e.timer) this.clock.clearTimeout(e.timer);
    void e.worker.forceRemove().catch(() => undefined);
    this.journey.forget(pod.metadata.uid);
  }

  private workerDeps() {
    return {
      runtime: this.runtime,
      clock: this.clock,
      nodeName: this.opts.nodeName,
      nodeIP: this.opts.nodeIP ?? '127.0.0.1',
      logRoot: path.join(this.opts.dataDir, 'logs', 'pods'),
      events: (pod: any, type: EventType, reason: string, message: string, fieldPath?: string) => this.event(pod, type, reason, message, fieldPath),
      probes: this.probes,
      env: this.env(),
      backoff: this.backoff,
      journey: (pod: any, step: string, at: number, detail?: string) => this.journey.record(pod, step, at, detail),
      wakeAt: (uid: string, at: number) => this.wakeAt(uid, at),
      dnsConfig: (pod: any) => podDNSConfig(pod, this.opts.dns),
      clusterDomain: this.opts.dns?.clusterDomain,
      runtimeHandler: (pod: any) => runtimeHandlerFor(pod, (name) => this.runtimeClass(name)),
      images: this.images,
      secret: (ns: string, name: string) => this.secretSource(ns, name),
      nodeKeyring: this.nodeKeyring,
    };
  }

  private wakeAt(uid: string, at: number): void {
    const e = this.entries.get(uid);
    if (!e || this.stopped) return;
    if (e.timer && e.timerAt !== undefined && e.timerAt <= at) return;
    if (e.timer) this.clock.clearTimeout(e.timer);
    e.timerAt = at;
    e.timer = this.clock.setTimeout(() => {
      e.timer = undefined;
      e.timerAt = undefined;
      this.schedule(uid);
    }, Math.max(0, at - this.clock.now()) + 5);
  }

  schedule(uid: string): void {
    const e = this.entries.get(uid);
    if (!e || this.stopped) return;
    e.dirty = true;
    if (this.holding) return;
    if (!e.running) void this.loop(uid, e);
  }

  private async loop(uid: string, e: Entry): Promise<void> {
    e.running = true;
    try {
      while (e.dirty && !this.stopped) {
        e.dirty = false;
        const idle = this.lanes.busy();
        let r;
        const op = e.op;
        e.op = 'sync';
        const t0 = performance.now();
        try {
          r = await e.worker.sync();
          this.kserver?.metrics.observePodWorker(op, (performance.now() - t0) / 1000);
          await this.report(e, r.status);
        } finally {
          idle();
        }
        // Upstream observes the first sync whose status turns the pod's phase to Running (every container created, one running).
        if (e.firstSeen !== undefined && r.status?.phase === 'Running') {
          this.kserver?.metrics.observePodStart(Math.max(0, this.clock.now() - e.firstSeen) / 1000);
          e.firstSeen = undefined;
        }
        if (r.finished) {
          e.finished = true;
          const m = e.worker.pod.metadata;
          await this.client.delete(`/api/v1/namespaces/${m.namespace}/pods/${m.name}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } }).catch((err) => {
            if (!(err instanceof ApiError && (err.status === 404 || err.status === 409))) {
              // Gone meanwhile: the Node authorizer answers 403 for a pod it no longer links to this node.
              const gone = err instanceof ApiError && err.status === 403 && this.informer?.get(`${m.namespace}/${m.name}`)?.metadata?.uid !== uid;
              if (!gone) throw err;
            }
          });
          this.entries.delete(uid);
          this.journey.forget(uid);
          return;
        }
      }
    } catch (err) {
      if (!this.stopped) {
        this.log(`sync ${keyOf(e.worker.pod)}: ${(err as Error).message}`);
        this.wakeAt(uid, this.clock.now() + 1000);
      }
    } finally {
      e.running = false;
    }
  }

  /**
   * Writes the status when it changed (merge patch; vanished top-level fields are nulled). The
   * journey annotation rides along once the pod is Ready or finished: upstream's pods/status keeps
   * metadata changes (it resets only spec, deletionTimestamp and ownerReferences). An API server
   * that drops them gets the annotation in a separate, low-priority patch.
   */
  private async report(e: Entry, status: any): Promise<void> {
    const text = JSON.stringify(status);
    if (text === e.lastStatus) return;
    const pod = e.worker.pod;
    const m = pod.metadata;
    const patch: any = { ...status };
    for (const k of Object.keys(pod.status ?? {})) if (!(k in patch) && k !== 'qosClass') patch[k] = null;
    const j = this.journey.flushable(m.uid);
    const meta: any = { uid: m.uid };
    if (j) meta.annotations = { [JOURNEY_ANNOTATION]: j };
    let updated: any;
    try {
      updated = await this.lanes.high(() => this.client.patch(`/api/v1/namespaces/${m.namespace}/pods/${m.name}/status`, { metadata: meta, status: patch }, 'merge'));
      e.lastStatus = text;
      if (updated?.metadata?.uid === m.uid) e.worker.pod = updated;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return;
      if (j) this.journey.unflush(m.uid);
      throw err;
    }
    if (j && updated?.metadata?.annotations?.[JOURNEY_ANNOTATION] !== j) {
      this.lanes.low(() => this.client.patch(`/api/v1/namespaces/${m.namespace}/pods/${m.name}`, { metadata: { annotations: { [JOURNEY_ANNOTATION]: j } } }, 'merge'));
    }
  }

  private async findContainer(ns: string, podName: string, container: string, previous: boolean): Promise<ContainerRef | string> {
    const pod = this.informer?.get(`${ns}/${podName}`);
    if (!pod) return `pod "${podName}" not found on node "${this.opts.nodeName}"`;
    const rp = await inspectPod(this.runtime, pod.metadata.uid);
    const list = rp.containers.get(container);
    if (!list?.length) return `container "${container}" in pod "${podName}" is waiting to start: ${waitingReason(pod, container)}`;
    const c = previous ? list[1] : list[0];
    if (!c) return `previous terminated container "${container}" in pod "${podName}" not found`;
    const st = await this.runtime.containerStatus(c.id);
    return { id: c.id, logPath: st.logPath, running: st.state === 'CONTAINER_RUNNING' };
  }

  /** GET /stats/summary: node figures from /proc and the data dir; pods from a runtime with container stats (none on the process runtime). */
  private async statsSummary(): Promise<unknown> {
    const node = await this.nodeStats.collect();
    return collectStatsSummary(this.runtime, { nodeName: this.opts.nodeName, ...node });
  }

  /** A RuntimeClass, read when a sandbox is made (rare enough not to keep an informer for). */
  private runtimeClass(name: string): Promise<any | undefined> {
    // Bounded: a half-open connection must not hold the pod's sandbox forever (the sync retries).
    return this.client.request('GET', `/apis/node.k8s.io/v1/runtimeclasses/${encodeURIComponent(name)}`, { signal: AbortSignal.timeout(10_000) }).catch((e) => {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    });
  }

  private secretSource(ns: string, name: string): Promise<any> {
    return apiObjectSource(this.client).secret(ns, name);
  }

  /** kubectl port-forward: connections go to the pod's IP (its alias in loopback mode), or the node for hostNetwork pods. */
  private async portForwardTarget(ns: string, podName: string): Promise<PortForwardTarget | string> {
    const pod = this.informer?.get(`${ns}/${podName}`);
    if (!pod) return `pod "${podName}" not found on node "${this.opts.nodeName}"`;
    const host = pod.spec?.hostNetwork ? '127.0.0.1' : this.reachableIP(pod.status?.podIP ?? '');
    if (!host) return `pod "${podName}" has no IP yet`;
    return { pod: `${ns}/${podName}`, uid: pod.metadata.uid, dial: (port) => net.connect({ host, port }) };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.informer?.stop();
    this.nodeInformer?.stop();
    this.services?.stop();
    this.unsubscribe?.();
    for (const e of this.entries.values()) if (e.timer) this.clock.clearTimeout(e.timer);
    this.probes.stopAll();
    this.lanes.close();
    await this.kserver?.stop();
    await this.runtime.close();
  }
}

/**
 * A runtime whose module loads on first use. The containerd runtime pulls in gRPC and protobuf
 * (~20 MB of RSS) that a node on the process runtime never needs, so it is imported only when
 * chosen. Every method but getContainerEvents is async, so calls simply wait for the load.
 */
function lazyRuntime(name: string, load: () => Promise<Runtime>): Runtime {
  let loaded: Runtime | undefined;
  const ready = load().then((r) => (loaded = r));
  ready.catch(() => undefined); // reported by the first call that needs it
  return new Proxy({} as Runtime, {
    get(_t, prop) {
      if (prop === 'name') return loaded?.name ?? name;
      if (prop === 'then') return undefined; // not a promise itself
      if (loaded) {
        const v = (loaded as any)[prop];
        return typeof v === 'function' ? v.bind(loaded) : v;
      }
      if (prop === 'getContainerEvents') {
        return (listener: Parameters<Runtime['getContainerEvents']>[0]) => {
          let off: (() => void) | undefined;
          let cancelled = false;
          void ready.then((r) => {
            if (!cancelled) off = r.getContainerEvents(listener);
          });
          return () => {
            cancelled = true;
            off?.();
          };
        };
      }
      return async (...args: unknown[]) => ((await ready) as any)[prop](...args);
    },
  });
}

function waitingReason(pod: any, container: string): string {
  const all = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])];
  return all.find((s: any) => s.name === container)?.state?.waiting?.reason ?? 'ContainerCreating';
}

/** The kubelet as a Component of `skiff up` / `skiff agent`. */
export function createKubelet(client: RestClient, opts: KubeletOptions): Component & { kubelet: Kubelet } {
  const kubelet = new Kubelet(client, opts);
  return { name: `kubelet (${opts.nodeName})`, kubelet, start: () => kubelet.start(), stop: () => kubelet.stop() };
}
