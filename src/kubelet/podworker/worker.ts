/**
 * One pod's lifecycle, as upstream's syncPod + kuberuntime computePodActions: each sync reads the
 * runtime's view of the pod, decides what to create, start, kill or back off, does it through the
 * CRI-shaped runtime, and returns the API status to report. All I/O goes through injected
 * dependencies and time through an injected clock, so the whole machine runs in unit tests with a
 * fake runtime and a fake clock.
 */
import type { Clock } from '../../client/workqueue.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID, RuntimeError, type ContainerConfig, type ContainerStatus, type KeyValue, type Mount, type PodSandboxConfig, type PortMapping, type Runtime } from '../../runtime/cri.js';
import { Backoff, goDuration } from './backoff.js';
import { podHostname, podHosts } from '../../runtime/hosts.js';
import { ImageManager, keyringFromSecrets, pullSecretsForPod, type Keyring } from '../images.js';
import { UnionKeyring } from '../../images/dockerconfig.js';
import { containerSecurityContext, sandboxSecurityContext, verifyRunAsNonRoot } from '../security.js';
import { expand } from '../env.js';
import { ANN_TERMINATION_PATH, ANN_TERMINATION_POLICY, terminationMessage } from './termination.js';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { generatePodStatus, isSidecar, rfc3339, willRestart, type RtContainer, type RtPod, type Waiting, type WorkerView } from './status.js';
import path from 'node:path';

export type EventType = 'Normal' | 'Warning';

/** Emits a core/v1 Event about the pod (fieldPath like `spec.containers{app}`). */
export type EventSink = (pod: any, type: EventType, reason: string, message: string, fieldPath?: string) => void;

/** What the prober knows (see prober/manager.ts). */
export interface ProbeView {
  ready(uid: string, name: string, containerId: string): boolean;
  started(uid: string, name: string, containerId: string): boolean;
  /** A failure message when liveness or startup failed and the container must be restarted. */
  failure(uid: string, name: string, containerId: string): { probe: 'Liveness' | 'Startup'; message: string } | undefined;
  containerStarted(pod: any, spec: any, containerId: string, isInit: boolean): void;
  containerStopped(uid: string, containerId: string): void;
  podRemoved(uid: string): void;
}

/** A problem with a pod's configuration (missing ConfigMap key, …): CreateContainerConfigError. */
export class ContainerConfigError extends Error {}
/** Volumes could not be set up: one FailedMount per message. */
export class MountError extends Error {
  constructor(
    message: string,
    readonly messages: string[] = [message],
  ) {
    super(message);
  }
}

/** The FailedMount messages of a setup failure. */
const mountMessages = (e: unknown): string[] => (e instanceof MountError ? e.messages : [(e as Error).message]);

export interface PodEnvironment {
  /** Sets up the pod's volumes (FailedMount on error). */
  setupVolumes(pod: any): Promise<void>;
  teardownVolumes(pod: any): Promise<void>;
  /** Bytes used by each of the pod's emptyDir volumes that has a sizeLimit (absent: not checked). */
  emptyDirUsage?(pod: any): Promise<Map<string, number>>;
  /** Env and mounts of one container. Throws ContainerConfigError. */
  containerEnv(pod: any, spec: any, podIP: string): Promise<{ envs: KeyValue[]; mounts: Mount[] }>;
  /** Runs a lifecycle hook; resolves to an error message on failure. */
  runHook(pod: any, spec: any, containerId: string, handler: any, podIP: string, timeoutSec: number): Promise<string | undefined>;
}

export interface JourneySink {
  (pod: any, step: string, at: number, detail?: string): void;
}

export interface PodWorkerDeps {
  runtime: Runtime;
  clock: Clock;
  nodeName: string;
  nodeIP: string;
  logRoot: string;
  events: EventSink;
  probes: ProbeView;
  env: PodEnvironment;
  backoff: Backoff;
  journey?: JourneySink;
  /** Asks for another sync of this pod at (or after) `at` ms. */
  wakeAt(uid: string, at: number): void;
  /** The sandbox's resolver configuration (undefined: the runtime leaves the host's). */
  dnsConfig?(pod: any): PodSandboxConfig['dnsConfig'];
  /** Cluster domain for the hosts file's `hostname.subdomain.<ns>.svc.<domain>` (default cluster.local). */
  clusterDomain?: string;
  /** The CRI handler of the pod's RuntimeClass ('' for the default); throws when it cannot be had. */
  runtimeHandler?(pod: any): Promise<string>;
  /** The node's image manager (pull back-off per pod+image); each worker keeps its own when absent. */
  images?: ImageManager;
  /** Reads a Secret for imagePullSecrets (undefined: not found); without it pulls go unauthenticated. */
  secret?(namespace: string, name: string): Promise<any | undefined>;
  /** The node's docker config credentials (one per kubelet), tried after the pod's pull secrets. */
  nodeKeyring?: { get(): Keyring };
}

const MIN_GRACE_SECONDS = 2;
/** How often emptyDir usage is compared with sizeLimit (the eviction manager's monitoring interval). */
export const EVICTION_CHECK_MS = 10_000;

/** The pod's emptyDir volumes with a positive sizeLimit. */
function emptyDirLimits(pod: any): { name: string; limit: number; text: string }[] {
  return (pod.spec?.volumes ?? [])
    .filter((v: any) => v.emptyDir?.sizeLimit !== undefined)
    .map((v: any) => ({ name: v.name, limit: parseBytes(String(v.emptyDir.sizeLimit)), text: String(v.emptyDir.sizeLimit) }))
    .filter((l: { limit: number }) => l.limit > 0);
}
/** How often volumes fed by API objects (configMap, secret, downwardAPI, projected) are refreshed. */
export const VOLUME_RESYNC_MS = 10_000;

const hasRefreshableVolumes = (pod: any) => (pod.spec?.volumes ?? []).some((v: any) => v.configMap || v.secret || v.downwardAPI || v.projected);

const nsToMs = (ns: number) => Math.floor(ns / 1e6);

export function podLogDir(logRoot: string, pod: any): string {
  return path.join(logRoot, `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
}

export function fieldPathOf(pod: any, name: string): string {
  const i = (pod.spec?.initContainers ?? []).findIndex((c: any) => c.name === name);
  if (i >= 0) return `spec.initContainers{${name}}`;
  if ((pod.spec?.ephemeralContainers ?? []).some((c: any) => c.name === name)) return `spec.ephemeralContainers{${name}}`;
  return `spec.containers{${name}}`;
}

/** Loads the runtime's view of a pod by its UID label. */
export async function inspectPod(runtime: Runtime, uid: string): Promise<RtPod> {
  const sandboxes = (await runtime.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: uid } })).sort((a, b) => b.createdAt - a.createdAt);
  const rp: RtPod = { containers: new Map() };
  const sb = sandboxes[0];
  if (sb) {
    const st = await runtime.podSandboxStatus(sb.id).catch(() => undefined);
    rp.sandbox = { id: sb.id, ready: sb.state === 'SANDBOX_READY', ip: st?.network?.ip || undefined, createdAt: nsToMs(sb.createdAt) };
  }
  const list = await runtime.listContainers({ labelSelector: { [LABEL_POD_UID]: uid } });
  for (const c of list) {
    const s = await runtime.containerStatus(c.id).catch(() => undefined);
    if (!s) continue;
    addContainer(rp.containers, rtContainer(s));
  }
  for (const arr of rp.containers.values()) arr.sort(newestFirst);
  return rp;
}

/** One container as the worker sees it, from the runtime's ContainerStatus. */
function rtContainer(s: ContainerStatus): RtContainer {
  return {
    id: s.id,
    name: s.metadata.name,
    attempt: s.metadata.attempt,
    state: s.state,
    exitCode: s.exitCode,
    reason: s.reason,
    message: s.state === 'CONTAINER_EXITED' ? withTermination(s) : s.message,
    createdAt: nsToMs(s.createdAt),
    startedAt: nsToMs(s.startedAt),
    finishedAt: nsToMs(s.finishedAt),
    image: s.image.image,
    imageRef: s.imageRef,
  };
}

const newestFirst = (a: RtContainer, b: RtContainer) => b.attempt - a.attempt || b.createdAt - a.createdAt;

/** Files a container instance under its name (sorted newest first by the caller). */
function addContainer(byName: Map<string, RtContainer[]>, rc: RtContainer): void {
  const arr = byName.get(rc.name);
  if (arr) arr.push(rc);
  else byName.set(rc.name, [rc]);
}

/**
 * What this sync did to the runtime's containers since `rp` was read: containers created, started
 * or stopped (to read again) and old instances removed. Knowing it, the worker re-reads only those
 * instead of the whole pod (ListPodSandbox + PodSandboxStatus + ListContainers + every
 * ContainerStatus), which is most of a container runtime's work for a new pod.
 */
interface Touched {
  read: Set<string>;
  removed: Set<string>;
}

/**
 * `rp` with the touched containers read again: the same objects, order and omissions (a container
 * whose status cannot be read is left out) as a fresh inspectPod of a runtime nobody else changed.
 */
async function refreshContainers(runtime: Runtime, rp: RtPod, t: Touched): Promise<RtPod> {
  const containers = new Map<string, RtContainer[]>();
  // Names keep their places in the map (ordered as inspectPod lists them).
  for (const [name, list] of rp.containers) containers.set(name, list.filter((c) => !t.read.has(c.id) && !t.removed.has(c.id)));
  for (const id of t.read) {
    if (t.removed.has(id)) continue;
    const s = await runtime.containerStatus(id).catch(() => undefined);
    if (!s) continue;
    addContainer(containers, rtContainer(s));
  }
  for (const [name, arr] of containers) {
    if (arr.length) arr.sort(newestFirst);
    else containers.delete(name);
  }
  return { sandbox: rp.sandbox, containers };
}

/** Exited containers' messages never change: read each termination message once. */
const exitMessages = new Map<string, string>();

function withTermination(s: ContainerStatus): string {
  let m = exitMessages.get(s.id);
  if (m === undefined) {
    const t = terminationMessage(s);
    m = t ? (s.message ? `${s.message}: ${t}` : t) : s.message;
    exitMessages.set(s.id, m);
    if (exitMessages.size > 2000) exitMessages.delete(exitMessages.keys().next().value!);
  }
  return m;
}

export interface SyncResult {
  status: any;
  /** The pod is terminated on this node and everything is cleaned up. */
  finished: boolean;
}

export class PodWorker {
  readonly waiting = new Map<string, Waiting>();
  private initialized = false;
  private terminal?: WorkerView['terminal'];
  private startTime?: string;
  private podIP?: string;
  private volumesReady = false;
  private volumesSyncedAt = 0;
  private usageCheckedAt = 0;
  private killed = false;
  private readonly pulled = new Set<string>();
  private readonly journeyDone = new Set<string>();
  private readonly images: ImageManager;
  /** Containers this sync changed since `rp` was last read (see refresh). */
  private touched: Touched = { read: new Set(), removed: new Set() };

  /** Kills waiting on a preStop hook or a SIGTERM, told when a new deletion shortens the grace period. */
  private readonly graceWaiters = new Set<(graceSec: number) => void>();
  private current: any;

  /** The pod as last seen (the agent sets it on every update, even mid-sync). */
  get pod(): any {
    return this.current;
  }
  set pod(p: any) {
    const before = this.current?.metadata?.deletionGracePeriodSeconds;
    this.current = p;
    const g = p?.metadata?.deletionGracePeriodSeconds;
    // A second `kubectl delete --grace-period=N` (or --force) cuts a kill short, as upstream's pod worker.
    if (typeof g === 'number' && g !== before) for (const w of this.graceWaiters) w(Math.max(0, g));
  }

  constructor(
    private readonly deps: PodWorkerDeps,
    pod: any,
  ) {
    this.current = pod;
    this.images = deps.images ?? new ImageManager(deps.runtime, deps.clock);
    const st = pod.status ?? {};
    if (st.startTime) this.startTime = st.startTime;
    if (st.podIP) this.podIP = st.podIP;
    if (st.phase === 'Succeeded' || st.phase === 'Failed') this.terminal = { phase: st.phase, reason: st.reason, message: st.message };
  }

  /** The pod's IP as the sandbox reported it: known before the status carrying it is written. */
  get ip(): string | undefined {
    return this.podIP;
  }

  get uid(): string {
    return this.pod.metadata.uid;
  }

  private event(type: EventType, reason: string, message: string, container?: string): void {
    this.deps.events(this.pod, type, reason, message, container ? fieldPathOf(this.pod, container) : undefined);
  }

  private journey(step: string, detail?: string): void {
    if (this.journeyDone.has(step)) return;
    this.journeyDone.add(step);
    this.deps.journey?.(this.pod, step, this.deps.clock.now(), detail);
  }

  private view(): WorkerView {
    const uid = this.uid;
    return {
      runtimeName: this.deps.runtime.name,
      waiting: this.waiting,
      initialized: this.initialized,
      terminal: this.terminal,
      startTime: this.startTime,
      podIP: this.podIP,
      hostIP: this.deps.nodeIP,
      ready: (n, id) => this.deps.probes.ready(uid, n, id),
      started: (n, id) => this.deps.probes.started(uid, n, id),
    };
  }

  private sandboxConfig(attempt: number): PodSandboxConfig {
    const m = this.pod.metadata;
    const ports = podPortMappings(this.pod);
    return {
      metadata: { name: m.name, uid: m.uid, namespace: m.namespace, attempt },
      hostname: podHostname(this.pod),
      logDirectory: podLogDir(this.deps.logRoot, this.pod),
      labels: { [LABEL_POD_NAME]: m.name, [LABEL_POD_NAMESPACE]: m.namespace, [LABEL_POD_UID]: m.uid },
      annotations: {},
      dnsConfig: this.deps.dnsConfig?.(this.pod),
      hosts: podHosts(this.pod, this.deps.clusterDomain),
      ...(ports.length ? { portMappings: ports } : {}),
      // Namespaces (hostNetwork → NODE), run-as ids, groups, privileged, seccomp and sysctls, as upstream.
      linux: sandboxSecurityContext(this.pod),
    };
  }

  private deletionGrace(): number {
    const m = this.pod.metadata;
    const g = m.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, g);
  }

  /** One pass of the state machine. */
  async sync(): Promise<SyncResult> {
    const now = this.deps.clock.now();
    this.startTime ??= rfc3339(now);
    this.journey('seen');
    this.touched = { read: new Set(), removed: new Set() };
    let rp = await inspectPod(this.deps.runtime, this.uid);

    if (this.pod.metadata.deletionTimestamp) {
      if (!this.killed) {
        await this.killPod(rp, this.deletionGrace());
        this.killed = true;
      }
      rp = await inspectPod(this.deps.runtime, this.uid);
      // A pod deleted before it finished ends Failed unless every container succeeded (upstream since 1.27).
      if (!this.terminal) {
        const all = (this.pod.spec?.containers ?? []).map((c: any) => rp.containers.get(c.name)?.[0]);
        const ok = all.length > 0 && all.every((c: RtContainer | undefined) => c?.state === 'CONTAINER_EXITED' && c.exitCode === 0);
        this.terminal = { phase: ok ? 'Succeeded' : 'Failed' };
      }
      await this.cleanup();
      return { status: generatePodStatus(this.pod, rp, this.view(), this.deps.clock.now()), finished: true };
    }

    if (this.terminal) {
      if (!this.killed) {
        await this.killPod(rp, this.terminal.graceSec ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30);
        this.killed = true;
        rp = await inspectPod(this.deps.runtime, this.uid);
      }
      return { status: generatePodStatus(this.pod, rp, this.view(), this.deps.clock.now()), finished: false };
    }

    // activeDeadlineSeconds counts from the kubelet's startTime, as upstream.
    const ads = this.pod.spec?.activeDeadlineSeconds;
    if (typeof ads === 'number') {
      const deadline = Date.parse(this.startTime) + ads * 1000;
      if (now >= deadline) {
        this.event('Normal', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
        this.terminal = { phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' };
        return this.sync();
      }
      this.deps.wakeAt(this.uid, deadline);
    }

    if (!this.volumesReady) {
      try {
        await this.deps.env.setupVolumes(this.pod);
        this.volumesReady = true;
        this.volumesSyncedAt = now;
      } catch (e) {
        for (const m of mountMessages(e)) this.event('Warning', 'FailedMount', m);
        this.deps.wakeAt(this.uid, now + 2000);
        return { status: generatePodStatus(this.pod, rp, this.view(), now), finished: false };
      }
      this.journey('volumes');
    } else if (now - this.volumesSyncedAt >= VOLUME_RESYNC_MS && hasRefreshableVolumes(this.pod)) {
      // ConfigMaps and Secrets may have changed: rewrite their volumes (a failure keeps the old content).
      this.volumesSyncedAt = now;
      await this.deps.env.setupVolumes(this.pod).catch((e) => mountMessages(e).forEach((m) => this.event('Warning', 'FailedMount', m)));
    }

    if (!rp.sandbox?.ready) {
      const attempt = rp.sandbox ? 1 : 0;
      let sandboxId: string;
      try {
        const handler = (await this.deps.runtimeHandler?.(this.pod)) ?? '';
        sandboxId = await this.deps.runtime.runPodSandbox(this.sandboxConfig(attempt), handler);
      } catch (e) {
        this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(e as Error).message}`);
        this.deps.wakeAt(this.uid, now + 2000);
        return { status: generatePodStatus(this.pod, rp, this.view(), now), finished: false };
      }
      rp = await this.withSandbox(rp, sandboxId);
    }
    // emptyDir sizeLimit, as upstream's eviction manager: a volume over its limit evicts the pod at once.
    const limits = this.deps.env.emptyDirUsage ? emptyDirLimits(this.pod) : [];
    if (limits.length) {
      if (now - this.usageCheckedAt >= EVICTION_CHECK_MS) {
        this.usageCheckedAt = now;
        const used = await this.deps.env.emptyDirUsage!(this.pod).catch(() => new Map<string, number>());
        const over = limits.find((l) => (used.get(l.name) ?? 0) > l.limit);
        if (over) {
          const message = `Usage of EmptyDir volume "${over.name}" exceeds the limit "${over.text}". `;
          this.event('Warning', 'Evicted', message);
          this.terminal = { phase: 'Failed', reason: 'Evicted', message, graceSec: 0 };
          return this.sync();
        }
      }
      this.deps.wakeAt(this.uid, this.usageCheckedAt + EVICTION_CHECK_MS);
    }

    if (rp.sandbox?.ip) this.podIP = rp.sandbox.ip;
    else if (this.pod.spec?.hostNetwork) this.podIP = this.deps.nodeIP;
    this.journey('sandbox', this.podIP);

    // Liveness or startup failures restart the container (the restart itself follows the policy).
    let killedForProbe = false;
    for (const [name, list] of rp.containers) {
      const c = list[0];
      if (c.state !== 'CONTAINER_RUNNING') continue;
      const f = this.deps.probes.failure(this.uid, name, c.id);
      if (!f) continue;
      const spec = this.specOf(name);
      this.event('Normal', 'Killing', `Container ${name} failed ${f.probe.toLowerCase()} probe, will be restarted`, name);
      // The failed probe's own terminationGracePeriodSeconds wins over the pod's, as upstream.
      const probe = f.probe === 'Liveness' ? spec.livenessProbe : spec.startupProbe;
      await this.killContainer(spec, c, probe?.terminationGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30, null);
      killedForProbe = true;
    }
    // Only a kill changed what the runtime holds: otherwise the view read above is current.
    if (killedForProbe) rp = await this.refresh(rp);

    // Ephemeral containers (kubectl debug) start once each, before init containers as upstream (so a
    // debugger can join a pod whose init is stuck); one that ran is never started again. On the
    // process runtime they are host processes like the pod's other containers: same sandbox, env
    // conventions and pod IP, stdin/tty/attach/logs alike; targetContainerName needs nothing there,
    // since every process already shares the host's PID namespace (and sees all of it).
    let ephemeralStarted = false;
    for (const ec of this.pod.spec?.ephemeralContainers ?? []) {
      if (!rp.containers.has(ec.name)) ephemeralStarted = (await this.startContainer(ec, rp, false, true)) || ephemeralStarted;
    }
    if (ephemeralStarted) rp = await this.refresh(rp);

    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    let changed = false;
    // Init containers in order; a regular one must succeed before the next; a sidecar must be started.
    let initDone = true;
    if (!this.initialized) {
      for (const ic of this.pod.spec?.initContainers ?? []) {
        let c = rp.containers.get(ic.name)?.[0];
        if (isSidecar(ic)) {
          if (!c || c.state === 'CONTAINER_EXITED') {
            if (!(await this.startContainer(ic, rp, true))) {
              initDone = false;
              break;
            }
            // Without a startup probe a sidecar counts as started at once: go on in this pass.
            rp = await this.refresh(rp);
            c = rp.containers.get(ic.name)?.[0];
          }
          if (c?.state === 'CONTAINER_RUNNING' && this.deps.probes.started(this.uid, ic.name, c!.id)) continue;
          initDone = false;
          break;
        }
        if (c?.state === 'CONTAINER_EXITED' && c.exitCode === 0) continue;
        initDone = false;
        if (!c) changed = (await this.startContainer(ic, rp, true)) || changed;
        else if (c.state === 'CONTAINER_EXITED') {
          if (policy === 'Never') {
            this.terminal = { phase: 'Failed' };
            return this.sync();
          }
          changed = (await this.startContainer(ic, rp, true)) || changed;
        }
        break;
      }
      if (initDone) {
        this.initialized = true;
        if (this.pod.spec?.initContainers?.length) this.journey('initialized');
      }
    } else {
      // Sidecars keep running after initialization: restart them whenever they exit.
      for (const ic of this.pod.spec?.initContainers ?? []) {
        if (!isSidecar(ic)) continue;
        const c = rp.containers.get(ic.name)?.[0];
        if (!c || c.state === 'CONTAINER_EXITED') changed = (await this.startContainer(ic, rp, true)) || changed;
      }
    }

    if (this.initialized) {
      for (const spec of this.pod.spec?.containers ?? []) {
        const c = rp.containers.get(spec.name)?.[0];
        if (!c || willRestart(this.pod, spec, c, false)) changed = (await this.startContainer(spec, rp, false)) || changed;
      }
    }
    if (changed) rp = await this.refresh(rp);

    // Done under the restart policy? (Always never ends by itself.)
    if (this.initialized && policy !== 'Always') {
      const latest = (this.pod.spec?.containers ?? []).map((c: any) => rp.containers.get(c.name)?.[0]);
      const over = latest.every((c: RtContainer | undefined, i: number) => c?.state === 'CONTAINER_EXITED' && !willRestart(this.pod, this.pod.spec.containers[i], c, false));
      if (over) {
        this.terminal = { phase: latest.every((c: RtContainer | undefined) => c!.exitCode === 0) ? 'Succeeded' : 'Failed' };
        this.journey('completed', this.terminal.phase);
        return this.sync();
      }
    }

    const status = generatePodStatus(this.pod, rp, this.view(), this.deps.clock.now());
    const allStarted = (this.pod.spec?.containers ?? []).every((c: any) => rp.containers.get(c.name)?.[0]?.state === 'CONTAINER_RUNNING');
    if (allStarted && this.initialized) this.journey('started');
    if (status.conditions.find((c: any) => c.type === 'Ready')?.status === 'True') this.journey('ready');
    return { status, finished: false };
  }

  /**
   * The view after creating a sandbox: the new one from its own status, the containers as read
   * (creating a sandbox touches none; the old sandbox's containers still carry the pod's restart
   * counts and last states, as in a full re-read). Falls back to a full read if the status fails.
   */
  private async withSandbox(rp: RtPod, id: string): Promise<RtPod> {
    const st = await this.deps.runtime.podSandboxStatus(id).catch(() => undefined);
    if (!st) return inspectPod(this.deps.runtime, this.uid);
    return { sandbox: { id, ready: st.state === 'SANDBOX_READY', ip: st.network?.ip || undefined, createdAt: nsToMs(st.createdAt) }, containers: rp.containers };
  }

  /** `rp` with the containers this sync touched read again (one ContainerStatus each). */
  private async refresh(rp: RtPod): Promise<RtPod> {
    const t = this.touched;
    this.touched = { read: new Set(), removed: new Set() };
    return refreshContainers(this.deps.runtime, rp, t);
  }

  private specOf(name: string): any {
    return [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? []), ...(this.pod.spec?.ephemeralContainers ?? [])].find((c: any) => c.name === name) ?? { name };
  }

  /** Starts (or restarts, after back-off) one container. Returns whether anything changed. */
  private async startContainer(spec: any, rp: RtPod, isInit: boolean, ephemeral = false): Promise<boolean> {
    const { runtime, clock } = this.deps;
    const m = this.pod.metadata;
    const list = rp.containers.get(spec.name) ?? [];
    const latest = list[0];
    const key = `${m.uid}/${spec.name}`;
    if (latest?.state === 'CONTAINER_EXITED') {
      const b = this.deps.backoff.inBackoffSince(key, latest.finishedAt);
      if (b.waiting) {
        const podDesc = `${m.name}_${m.namespace}(${m.uid})`;
        this.waiting.set(spec.name, { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(b.backoffMs)} restarting failed container=${spec.name} pod=${podDesc}` });
        this.event('Warning', 'BackOff', `Back-off restarting failed container ${spec.name} in pod ${podDesc}`, spec.name);
        this.deps.wakeAt(m.uid, b.until);
        return false;
      }
      this.deps.backoff.next(key, latest.finishedAt);
    }
    const attempt = latest ? latest.attempt + 1 : 0;

    // Image, per imagePullPolicy, with pull back-off and imagePullSecrets.
    const image = spec.image ?? '';
    const pull = await this.images.ensure(this.pod, spec, {
      events: (type, reason, message) => this.event(type, reason, message, spec.name),
      keyring: await this.keyring(),
      sandboxConfig: this.sandboxConfig(0),
      quietPresent: this.pulled.has(`${spec.name}@${attempt}`),
    });
    if (!pull.ok) {
      this.waiting.set(spec.name, { reason: pull.reason, message: pull.message });
      this.event('Warning', 'Failed', `Error: ${pull.reason}`, spec.name);
      // Show ImagePullBackOff soon after ErrImagePull, and pull again once the back-off ends.
      if (pull.reason === 'ErrImagePull') this.deps.wakeAt(m.uid, clock.now() + 1000);
      if (pull.retryAt !== undefined) this.deps.wakeAt(m.uid, pull.retryAt);
      return false;
    }
    this.pulled.add(`${spec.name}@${attempt}`);

    let envs: KeyValue[];
    let mounts: Mount[];
    try {
      const nonRoot = verifyRunAsNonRoot(this.pod, spec, pull.image);
      if (nonRoot) throw new ContainerConfigError(nonRoot);
      ({ envs, mounts } = await this.deps.env.containerEnv(this.pod, spec, this.podIP ?? ''));
    } catch (e) {
      const msg = (e as Error).message;
      this.waiting.set(spec.name, { reason: 'CreateContainerConfigError', message: msg });
      this.event('Warning', 'Failed', `Error: ${msg}`, spec.name);
      this.deps.wakeAt(m.uid, clock.now() + 2000);
      return false;
    }
    // A fresh host file behind terminationMessagePath. The process runtime maps the path in the
    // command to it, as it maps volume paths: without it a container wrote the host's /dev/termination-log.
    if (spec.terminationMessagePath && !mounts.some((x) => x.containerPath === spec.terminationMessagePath)) {
      const dir = this.terminationDir();
      // Unique per container and attempt; no random bytes (each costs a syscall on a burst).
      const file = path.join(dir, `${spec.name}-${attempt}-${Date.now().toString(36)}`);
      try {
        // Off the event loop: on a burst, synchronous file creation here held every other pod up.
        if (!this.terminationDirMade) await mkdir(dir, { recursive: true });
        this.terminationDirMade = true;
        await writeFile(file, '', { mode: 0o666 });
        mounts = [...mounts, { containerPath: spec.terminationMessagePath, hostPath: file }];
      } catch {
        // without the file the container runs; it just cannot report a message
      }
    }
    const sandbox = rp.sandbox!;
    const sbConfig = this.sandboxConfig(0);
    const config: ContainerConfig = {
      metadata: { name: spec.name, attempt },
      image: { image },
      // $(VAR) in command and args from the container's final environment, as upstream's ExpandContainerCommandAndArgs.
      ...expandCommandAndArgs(spec, envs),
      workingDir: spec.workingDir,
      envs,
      mounts,
      labels: { [LABEL_POD_NAME]: m.name, [LABEL_POD_NAMESPACE]: m.namespace, [LABEL_POD_UID]: m.uid, [LABEL_CONTAINER_NAME]: spec.name },
      annotations: {
        'io.kubernetes.container.restartCount': String(attempt),
        [ANN_TERMINATION_PATH]: spec.terminationMessagePath ?? '',
        [ANN_TERMINATION_POLICY]: spec.terminationMessagePolicy ?? 'File',
      },
      logPath: `${spec.name}/${attempt}.log`,
      stdin: !!spec.stdin,
      stdinOnce: !!spec.stdinOnce,
      tty: !!spec.tty,
      linux: { resources: linuxResources(spec.resources), securityContext: containerSecurityContext(this.pod, spec) },
    };
    if (ephemeral && spec.targetContainerName) {
      // Join the target's process namespace, as upstream (a runtime whose containers are host
      // processes shares one namespace among all of them anyway).
      const target = rp.containers.get(spec.targetContainerName)?.[0];
      if (target) {
        const sc = config.linux!.securityContext!;
        sc.namespaceOptions = { ...sc.namespaceOptions, pid: 'TARGET', targetId: target.id };
      }
    }
    let id: string;
    try {
      id = await runtime.createContainer(sandbox.id, config, sbConfig);
    } catch (e) {
      const msg = (e as Error).message;
      this.waiting.set(spec.name, { reason: 'CreateContainerError', message: msg });
      this.event('Warning', 'Failed', `Error: ${msg}`, spec.name);
      if (!(e instanceof RuntimeError && e.code === 'InvalidArgument')) this.deps.wakeAt(m.uid, clock.now() + 2000);
      return false;
    }
    this.touched.read.add(id);
    this.event('Normal', 'Created', `Created container ${spec.name}`, spec.name);
    const unenforced = runtime.unenforcedSecurity?.(config);
    if (Array.isArray(unenforced) && unenforced.length) {
      this.event('Warning', 'SecurityContextNotEnforced', `The ${runtime.name} runtime runs containers as host processes and does not enforce: ${unenforced.join(', ')}. Use the containerd runtime for isolation.`, spec.name);
    }
    try {
      await runtime.startContainer(id);
    } catch (e) {
      this.waiting.delete(spec.name);
      this.event('Warning', 'Failed', `Error: failed to start container "${spec.name}": ${(e as Error).message}`, spec.name);
      await this.gc(list);
      return true;
    }
    this.waiting.delete(spec.name);
    this.event('Normal', 'Started', `Started container ${spec.name}`, spec.name);
    if (ephemeral) return true;
    this.deps.probes.containerStarted(this.pod, spec, id, isInit);
    if (!isInit) this.journey(`container:${spec.name}`);
    else this.journey(`init:${spec.name}`);
    await this.gc(list);

    const postStart = spec.lifecycle?.postStart;
    if (postStart) {
      const err = await this.deps.env.runHook(this.pod, spec, id, postStart, this.podIP ?? '', this.pod.spec?.terminationGracePeriodSeconds ?? 30);
      if (err) {
        this.event('Warning', 'FailedPostStartHook', err, spec.name);
        await this.killContainer(spec, { id, name: spec.name }, this.pod.spec?.terminationGracePeriodSeconds ?? 30, 'FailedPostStartHook');
        // Until the next start, the container waits with the hook's error, as upstream's reason cache.
        this.waiting.set(spec.name, { reason: 'PostStartHookError', message: err });
      }
    }
    return true;
  }

  private terminationDirMade = false;

  /** Host files behind the containers' terminationMessagePath (removed with the pod). */
  private terminationDir(): string {
    return path.join(this.deps.logRoot, '..', 'termination', this.uid);
  }

  /**
   * Credentials from the pod's imagePullSecrets (upstream warns and pulls anyway when some are
   * missing), then the node's docker config, as upstream's MakeDockerKeyring.
   */
  private async keyring(): Promise<Keyring | undefined> {
    const node = this.deps.nodeKeyring?.get();
    if (!this.deps.secret || !this.pod.spec?.imagePullSecrets?.length) return node;
    const { secrets, missing } = await pullSecretsForPod(this.pod, (ns, n) => this.deps.secret!(ns, n));
    if (missing.length) this.event('Warning', 'FailedToRetrieveImagePullSecret', `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`);
    const fromSecrets = keyringFromSecrets(secrets);
    return node ? new UnionKeyring([fromSecrets, node]) : fromSecrets;
  }

  /** Keeps the newest dead instance per container (for --previous); removes older ones. */
  private async gc(before: RtContainer[]): Promise<void> {
    for (const old of before.slice(1)) {
      if (old.state !== 'CONTAINER_EXITED') continue;
      // An exited container never changes: one the runtime refused to remove stays as read.
      if (await this.deps.runtime.removeContainer(old.id).then(() => true, () => false)) this.touched.removed.add(old.id);
    }
  }

  /** preStop, then SIGTERM with what is left of the grace period (at least 2 s, as upstream), then SIGKILL. */
  private async killContainer(spec: any, c: Pick<RtContainer, 'id' | 'name'>, graceSec: number, message: string | null = `Stopping container ${c.name}`): Promise<void> {
    const t0 = this.deps.clock.now();
    if (message !== null) this.event('Normal', 'Killing', message, c.name);
    let shortened: number | undefined;
    let onShorter!: (g: number) => void;
    const shorter = new Promise<'shortened'>(
      (r) =>
        (onShorter = (g) => {
          // Only a grace shorter than this kill's counts (a pod finishing under its restart policy may be deleted meanwhile).
          if (g >= graceSec || (shortened !== undefined && g >= shortened)) return;
          shortened = g;
          r('shortened');
        }),
    );
    this.graceWaiters.add(onShorter);
    try {
      const preStop = spec?.lifecycle?.preStop;
      if (preStop && graceSec > 0) {
        const hook = this.deps.env.runHook(this.pod, spec, c.id, preStop, this.podIP ?? '', graceSec);
        // A shortened grace period stops waiting for the hook (it is left to finish or die with the container).
        const err = await Promise.race([hook, shorter]);
        // Upstream leaves the hook's output out of this event (it may hold secrets).
        if (err && err !== 'shortened') this.event('Warning', 'FailedPreStopHook', 'PreStopHook failed', c.name);
      }
      const left =
        shortened !== undefined ? shortened : graceSec > 0 ? Math.max(MIN_GRACE_SECONDS, graceSec - Math.floor((this.deps.clock.now() - t0) / 1000)) : 0;
      const shortBefore = shortened !== undefined;
      const stop = this.deps.runtime.stopContainer(c.id, left).catch(() => undefined);
      // Shortened while waiting for the container to exit after SIGTERM: stop again with what is left.
      if (!shortBefore && left > 0 && (await Promise.race([stop.then(() => 'stopped' as const), shorter])) === 'shortened') {
        await this.deps.runtime.stopContainer(c.id, shortened!).catch(() => undefined);
      }
      await stop;
    } finally {
      this.graceWaiters.delete(onShorter);
    }
    this.touched.read.add(c.id);
    this.deps.probes.containerStopped(this.uid, c.id);
  }

  /** Stops app containers, then sidecars in reverse order, then the sandbox. */
  private async killPod(rp: RtPod, graceSec: number): Promise<void> {
    const running = (name: string) => {
      const c = rp.containers.get(name)?.[0];
      return c && c.state === 'CONTAINER_RUNNING' ? c : undefined;
    };
    // Ephemeral containers go with the app containers, with the same grace.
    const apps = [...(this.pod.spec?.containers ?? []), ...(this.pod.spec?.ephemeralContainers ?? [])].filter((s: any) => running(s.name));
    await Promise.all(apps.map((s: any) => this.killContainer(s, running(s.name)!, graceSec)));
    const inits = [...(this.pod.spec?.initContainers ?? [])].reverse();
    for (const s of inits) {
      const c = running(s.name);
      if (c) await this.killContainer(s, c, isSidecar(s) ? Math.min(graceSec, MIN_GRACE_SECONDS) : graceSec);
    }
    // Anything else still running (renamed containers of an older spec).
    for (const [name, list] of rp.containers) {
      const c = list[0];
      if (c.state === 'CONTAINER_RUNNING' && !apps.some((s: any) => s.name === name) && !inits.some((s: any) => s.name === name)) await this.deps.runtime.stopContainer(c.id, 0).catch(() => undefined);
    }
    if (rp.sandbox) await this.deps.runtime.stopPodSandbox(rp.sandbox.id).catch(() => undefined);
  }

  /** Removes the pod's sandbox, containers and volumes once it is gone from the API. */
  async cleanup(): Promise<void> {
    this.deps.probes.podRemoved(this.uid);
    this.deps.backoff.forget(`${this.uid}/`);
    this.images.forget(this.uid);
    const sbs = await this.deps.runtime.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: this.uid } });
    for (const sb of sbs) await this.deps.runtime.removePodSandbox(sb.id).catch(() => undefined);
    if (this.volumesReady) await this.deps.env.teardownVolumes(this.pod).catch(() => undefined);
    await rm(this.terminationDir(), { recursive: true, force: true });
    this.terminationDirMade = false;
    this.volumesReady = false;
  }

  /** The pod vanished from the API without a graceful deletion: kill at once and clean up. */
  async forceRemove(): Promise<void> {
    const rp = await inspectPod(this.deps.runtime, this.uid);
    await this.killPod(rp, 0);
    await this.cleanup();
  }
}

/** A container's command and args with $(VAR) references to its environment expanded ($$ escapes). */
export function expandCommandAndArgs(spec: any, envs: KeyValue[]): { command?: string[]; args?: string[] } {
  const vars = new Map(envs.map((e) => [e.key, e.value]));
  const ex = (list: unknown) => (Array.isArray(list) ? list.map((s) => expand(String(s), vars)) : undefined);
  return { command: ex(spec.command), args: ex(spec.args) };
}

/**
 * The sandbox's port mappings from the app containers' ports, as upstream's MakePortMappings: every
 * declared port (the runtime's portmap plugin acts on those with a hostPort), once per name — an
 * unnamed port is named by its address family, protocol, host IP and ports.
 */
export function podPortMappings(pod: any): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    const names = new Set<string>();
    for (const p of c.ports ?? []) {
      const protocol = (p.protocol ?? 'TCP') as PortMapping['protocol'];
      const hostIp = p.hostIP ?? '';
      const family = hostIp ? (hostIp.includes(':') ? 'v6' : 'v4') : 'any';
      const name = p.name || `${family}-${protocol}-${hostIp}:${p.containerPort}:${p.hostPort ?? 0}`;
      if (names.has(name)) continue;
      names.add(name);
      out.push({ protocol, containerPort: p.containerPort, hostPort: p.hostPort ?? 0, hostIp });
    }
  }
  return out;
}

/** CPU/memory limits as CRI's LinuxContainerResources (quota per 100 ms period, as upstream). */
export function linuxResources(res: any): ContainerConfig['linux'] extends infer L ? (L extends { resources?: infer R } ? R : never) : never {
  const out: any = {};
  const lim = res?.limits ?? {};
  const req = res?.requests ?? {};
  if (lim.memory !== undefined) out.memoryLimitInBytes = parseBytes(String(lim.memory));
  if (lim.cpu !== undefined) {
    out.cpuPeriod = 100_000;
    out.cpuQuota = Math.max(1000, Math.round(parseCPU(String(lim.cpu)) * 100_000));
  }
  const shareCPU = req.cpu ?? lim.cpu;
  if (shareCPU !== undefined) out.cpuShares = Math.max(2, Math.round(parseCPU(String(shareCPU)) * 1024));
  return out;
}

export function parseCPU(q: string): number {
  if (q.endsWith('m')) return Number(q.slice(0, -1)) / 1000;
  return Number(q);
}

export function parseBytes(q: string): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return Number(q);
  const n = Number(m[1]);
  const mult: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6, m: 1e-3 };
  return Math.round(n * (mult[m[2]] ?? 1));
}
