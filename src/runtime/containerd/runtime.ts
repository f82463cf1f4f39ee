/**
 * The `containerd` runtime: the CRI-shaped interface of cri.ts over real CRI gRPC (runtime.v1
 * RuntimeService + ImageService) to containerd's CRI plugin, either one Skiff runs itself
 * (startContainerdRuntime with a directory) or an existing endpoint (`unix:///run/…sock`).
 *
 * containerd 1.6 has no GetContainerEvents, so lifecycle events are derived: created, started,
 * stopped and deleted from this client's own calls, plus exits noticed by polling the exited
 * containers while someone listens. Each container's events are emitted once, in order.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  RuntimeError,
  nowNanos,
  type AuthConfig,
  type ContainerStats,
  type ContainerStatsFilter,
  type AttachRequest,
  type AttachSession,
  type Container,
  type ContainerConfig,
  type ContainerEvent,
  type ContainerFilter,
  type ContainerStatus,
  type ExecRequest,
  type ExecSession,
  type ExecSyncResponse,
  type Image,
  type ImageSpec,
  type PodSandbox,
  type PodSandboxConfig,
  type PodSandboxFilter,
  type PodSandboxStatus,
  type Runtime,
  type RuntimeConfig,
  type VersionResponse,
} from '../cri.js';
import { criClients, type CriClients } from './proto.js';
import { dialRemoteCommand, exitCodeOf } from './exec.js';
import type { RemoteCommandOptions } from '../remotecommand.js';
import { ContainerdSupervisor, type SupervisorOptions } from './supervisor.js';
import { reconcileRuntime, type ReconcileResult } from './reconcile.js';

export interface ContainerdRuntimeOptions {
  /** CRI endpoint, `unix:///path/containerd.sock`. */
  endpoint: string;
  /** Stopped on close() when this runtime owns the daemon. */
  supervisor?: ContainerdSupervisor;
  /** How often exits are polled while there are event listeners (ms). */
  exitPollMs?: number;
  /** Deadline of ordinary calls (ms); pulls and stops get their own. */
  callTimeoutMs?: number;
}

const CODES: Partial<Record<number, RuntimeError['code']>> = {
  [GrpcStatus.NOT_FOUND]: 'NotFound',
  [GrpcStatus.INVALID_ARGUMENT]: 'InvalidArgument',
  [GrpcStatus.FAILED_PRECONDITION]: 'FailedPrecondition',
  [GrpcStatus.UNIMPLEMENTED]: 'Unimplemented',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
};

function toRuntimeError(e: ServiceError): RuntimeError {
  const code = CODES[e.code] ?? 'Internal';
  // containerd wraps "not found" in Unknown for a few calls; keep the kubelet's mapping honest.
  const notFound = code === 'Internal' && /not found/i.test(e.details ?? '') && !/image/i.test(e.details ?? '');
  return new RuntimeError(notFound ? 'NotFound' : code, e.details || e.message);
}

type EventType = ContainerEvent['containerEventType'];

/** The streams an exec or attach asks for; a TTY merges stderr into stdout, as upstream. */
function streamsOf(req: { stdin?: boolean; stdout?: boolean; stderr?: boolean; tty?: boolean }): RemoteCommandOptions {
  return { stdin: !!req.stdin, stdout: req.stdout !== false, stderr: !!req.stderr && !req.tty, tty: !!req.tty };
}

export class ContainerdRuntime implements Runtime {
  /** CRI's runtimeName (`containerd`, `cri-o`): containerIDs are `<name>://<id>`, as upstream. */
  name = 'containerd';
  private readonly c: CriClients;
  private readonly events = new EventEmitter();
  private readonly emitted = new Map<string, EventType>();
  private readonly sandboxOf = new Map<string, string>();
  private poller?: NodeJS.Timeout;
  private polling = false;
  private closed = false;
  /** CRI calls made, by method (what a pod costs the daemon; the benchmark prints it). */
  readonly callCounts = new Map<string, number>();

  constructor(private readonly opts: ContainerdRuntimeOptions) {
    this.c = criClients(opts.endpoint);
    this.events.setMaxListeners(0);
  }

  get endpoint(): string {
    return this.opts.endpoint;
  }

  /** The containerd Skiff runs for this runtime (undefined with an external endpoint). */
  get supervisor(): ContainerdSupervisor | undefined {
    return this.opts.supervisor;
  }

  private call<T = any>(svc: 'runtime' | 'image', method: string, req: object, timeoutMs = this.opts.callTimeoutMs ?? 60_000): Promise<T> {
    this.callCounts.set(method, (this.callCounts.get(method) ?? 0) + 1);
    return new Promise((resolve, reject) => {
      this.c[svc][method](req, { deadline: Date.now() + timeoutMs }, (err: ServiceError | null, res: T) => (err ? reject(toRuntimeError(err)) : resolve(res)));
    });
  }

  /**
   * Starts the owned containerd (if any and not yet running), then releases what an abrupt stop
   * left behind (IPs and network namespaces no sandbox owns); safe to call more than once.
   */
  async start(): Promise<void> {
    const sv = this.opts.supervisor;
    if (!sv) {
      // An existing endpoint may be CRI-O or another CRI runtime: take its name from CRI.
      const v = await this.version();
      if (v.runtimeName) this.name = v.runtimeName;
      return;
    }
    const first = !sv.running;
    await sv.start();
    if (first) await this.reconcile().catch((e) => sv.log(`containerd: reconcile after start: ${(e as Error).message}`));
  }

  /**
   * Releases leftovers of abrupt stops: with `keepPodUids` (the pods the node should run, from the
   * kubelet), sandboxes of other pods are stopped and removed too, as upstream's kubelet removes
   * runtime pods it does not know. IPs and namespaces only for a containerd Skiff runs itself: an
   * external endpoint's network state is its own (its StopPodSandbox releases it).
   */
  async reconcile(keepPodUids?: ReadonlySet<string>): Promise<ReconcileResult> {
    const sv = this.opts.supervisor;
    return reconcileRuntime(this, { ipamDataDir: sv?.cni.ipamDataDir, netnsDir: sv?.netnsDir, keepPodUids, log: sv ? (m) => sv.log(m) : undefined });
  }

  async version(): Promise<VersionResponse> {
    const v = await this.call('runtime', 'Version', { version: 'v1' });
    return { version: v.version, runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion, runtimeApiVersion: v.runtimeApiVersion };
  }

  async updateRuntimeConfig(config: RuntimeConfig): Promise<void> {
    const cidr = config.networkConfig?.podCidr ?? '';
    if (cidr && (await this.opts.supervisor?.setPodCIDR(cidr))) return;
    await this.call('runtime', 'UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr: cidr } } });
    // CRI renders its CNI template now; wait until the network is reported ready (bounded).
    const deadline = Date.now() + 5000;
    while (cidr && Date.now() < deadline) {
      const net = (await this.status().catch(() => [])).find((c) => c.type === 'NetworkReady');
      if (!net || net.status) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** CRI Status: RuntimeReady / NetworkReady conditions. */
  async status(): Promise<{ type: string; status: boolean; reason: string; message: string }[]> {
    const r = await this.call('runtime', 'Status', {});
    return r.status?.conditions ?? [];
  }

  // ---- sandboxes

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    if (config.logDirectory) mkdirSync(config.logDirectory, { recursive: true });
    const r = await this.call('runtime', 'RunPodSandbox', { config, runtimeHandler }, 120_000);
    return r.podSandboxId;
  }

  async stopPodSandbox(id: string): Promise<void> {
    const ids = await this.listContainers({ podSandboxId: id }).catch(() => [] as Container[]);
    await this.call('runtime', 'StopPodSandbox', { podSandboxId: id }, 120_000).catch((e) => {
      if (!(e instanceof RuntimeError && e.code === 'NotFound')) throw e;
    });
    for (const c of ids) this.emit(c.id, id, 'CONTAINER_STOPPED_EVENT');
  }

  async removePodSandbox(id: string): Promise<void> {
    const ids = await this.listContainers({ podSandboxId: id }).catch(() => [] as Container[]);
    await this.call('runtime', 'RemovePodSandbox', { podSandboxId: id }, 120_000).catch((e) => {
      if (!(e instanceof RuntimeError && e.code === 'NotFound')) throw e;
    });
    for (const c of ids) {
      this.emit(c.id, id, 'CONTAINER_STOPPED_EVENT');
      this.emit(c.id, id, 'CONTAINER_DELETED_EVENT');
    }
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const r = await this.call('runtime', 'PodSandboxStatus', { podSandboxId: id });
    const s = r.status;
    return {
      id: s.id,
      metadata: s.metadata,
      state: s.state,
      createdAt: s.createdAt,
      network: { ip: s.network?.ip ?? '', additionalIps: (s.network?.additionalIps ?? []).map((x: any) => ({ ip: x.ip })) },
      labels: s.labels ?? {},
      annotations: s.annotations ?? {},
    };
  }

  /** containerd's verbose sandbox info (`info`: JSON with the runtime spec, pid, CNI result). */
  async podSandboxInfo(id: string): Promise<Record<string, string>> {
    const r = await this.call('runtime', 'PodSandboxStatus', { podSandboxId: id, verbose: true });
    return r.info ?? {};
  }

  async listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    const r = await this.call('runtime', 'ListPodSandbox', {
      filter: { id: filter.id ?? '', state: filter.state ? { state: filter.state } : null, labelSelector: filter.labelSelector ?? {} },
    });
    return (r.items ?? []).map((s: any) => ({ id: s.id, metadata: s.metadata, state: s.state, createdAt: s.createdAt, labels: s.labels ?? {}, annotations: s.annotations ?? {} }));
  }

  // ---- containers

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const logDir = sandboxConfig.logDirectory;
    if (logDir && config.logPath) mkdirSync(path.dirname(path.join(logDir, config.logPath)), { recursive: true });
    const r = await this.call('runtime', 'CreateContainer', { podSandboxId, config, sandboxConfig }, 120_000);
    this.sandboxOf.set(r.containerId, podSandboxId);
    this.emit(r.containerId, podSandboxId, 'CONTAINER_CREATED_EVENT');
    return r.containerId;
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.call('runtime', 'StartContainer', { containerId: id }, 120_000);
    } catch (e) {
      // A container that failed to start has exited (StartError): tell listeners, as for exits.
      void this.noticeExit(id);
      throw e;
    }
    this.emit(id, this.sandboxOf.get(id) ?? '', 'CONTAINER_STARTED_EVENT');
  }

  async stopContainer(id: string, timeout: number): Promise<void> {
    await this.call('runtime', 'StopContainer', { containerId: id, timeout }, (timeout + 60) * 1000);
    this.emit(id, this.sandboxOf.get(id) ?? '', 'CONTAINER_STOPPED_EVENT');
  }

  async removeContainer(id: string): Promise<void> {
    if (!this.sandboxOf.has(id)) {
      const [c] = await this.listContainers({ id }).catch(() => [] as Container[]);
      if (c) this.sandboxOf.set(id, c.podSandboxId);
    }
    await this.call('runtime', 'RemoveContainer', { containerId: id }, 120_000).catch((e) => {
      if (!(e instanceof RuntimeError && e.code === 'NotFound')) throw e;
    });
    const sb = this.sandboxOf.get(id) ?? '';
    this.emit(id, sb, 'CONTAINER_STOPPED_EVENT');
    this.emit(id, sb, 'CONTAINER_DELETED_EVENT');
    this.sandboxOf.delete(id);
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const r = await this.call('runtime', 'ContainerStatus', { containerId: id });
    const s = r.status;
    // containerd stamps startedAt when StartContainer returns but finishedAt from the shim's exit
    // time, so a process that exits at once can look as if it finished before it started.
    const startedAt = s.finishedAt && s.startedAt > s.finishedAt ? s.finishedAt : s.startedAt;
    return {
      id: s.id,
      metadata: s.metadata,
      state: s.state,
      createdAt: s.createdAt,
      startedAt,
      finishedAt: s.finishedAt,
      exitCode: s.exitCode,
      image: { image: s.image?.image ?? '', annotations: s.image?.annotations ?? {} },
      imageRef: s.imageRef,
      reason: s.reason,
      message: s.message,
      labels: s.labels ?? {},
      annotations: s.annotations ?? {},
      mounts: (s.mounts ?? []).map((m: any) => ({ containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readonly })),
      logPath: s.logPath,
    };
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const r = await this.call('runtime', 'ListContainers', {
      filter: { id: filter.id ?? '', state: filter.state ? { state: filter.state } : null, podSandboxId: filter.podSandboxId ?? '', labelSelector: filter.labelSelector ?? {} },
    });
    return (r.containers ?? []).map((c: any) => ({
      id: c.id,
      podSandboxId: c.podSandboxId,
      metadata: c.metadata,
      image: { image: c.image?.image ?? '', annotations: c.image?.annotations ?? {} },
      imageRef: c.imageRef,
      state: c.state,
      createdAt: c.createdAt,
      labels: c.labels ?? {},
      annotations: c.annotations ?? {},
    }));
  }

  // ---- stats

  async containerStats(id: string): Promise<ContainerStats> {
    const r = await this.call('runtime', 'ContainerStats', { containerId: id });
    return toStats(r.stats);
  }

  async listContainerStats(filter: ContainerStatsFilter = {}): Promise<ContainerStats[]> {
    const r = await this.call('runtime', 'ListContainerStats', { filter: { id: filter.id ?? '', podSandboxId: filter.podSandboxId ?? '', labelSelector: filter.labelSelector ?? {} } });
    return (r.stats ?? []).map(toStats);
  }

  // ---- exec and logs

  async execSync(id: string, cmd: string[], timeout: number): Promise<ExecSyncResponse> {
    const r = await this.call('runtime', 'ExecSync', { containerId: id, cmd, timeout }, timeout > 0 ? (timeout + 30) * 1000 : 24 * 3600 * 1000);
    return { stdout: Buffer.from(r.stdout ?? []), stderr: Buffer.from(r.stderr ?? []), exitCode: r.exitCode };
  }

  async exec(req: ExecRequest): Promise<ExecSession> {
    const o = streamsOf(req);
    const r = await this.call('runtime', 'Exec', { containerId: req.containerId, cmd: req.cmd, ...o });
    const rc = await dialRemoteCommand(r.url, o);
    // No status at all is success, as upstream's client reads an empty error stream.
    const exit = rc.done.then((status) => (status ? exitCodeOf(status) : 0));
    return { stdin: rc.stdin, stdout: rc.stdout, stderr: rc.stderr, resize: rc.resize, exit, kill: () => rc.close() };
  }

  /**
   * CRI Attach over the streaming server. containerd ends the session when the container's output
   * does (its status then says only Success), so the exit code is read from ContainerStatus; with
   * the container's stdinOnce, ending stdin closes the container's. After detach() the session
   * no longer follows the container: `exit` resolves with -1 unless it had already ended.
   */
  async attach(req: AttachRequest): Promise<AttachSession> {
    const o = streamsOf(req);
    const r = await this.call('runtime', 'Attach', { containerId: req.containerId, ...o });
    const rc = await dialRemoteCommand(r.url, o);
    let detached = false;
    let wake: (() => void) | undefined;
    const exit = rc.done.then(async () => {
      // The output ends as the process does; containerd records the exit a moment later.
      for (let delay = 10; !detached && !this.closed; delay = Math.min(delay * 2, 1000)) {
        const s = await this.containerStatus(req.containerId).catch((e) => (e instanceof RuntimeError && e.code === 'NotFound' ? null : undefined));
        if (s === null) return -1;
        if (s?.state === 'CONTAINER_EXITED') return s.exitCode;
        await new Promise<void>((res) => {
          wake = res;
          setTimeout(res, delay).unref();
        });
      }
      return -1;
    });
    return {
      stdin: rc.stdin,
      stdout: rc.stdout,
      stderr: rc.stderr,
      resize: rc.resize,
      exit,
      detach: () => {
        detached = true;
        rc.close();
        wake?.();
      },
    };
  }

  async reopenContainerLog(id: string): Promise<void> {
    await this.call('runtime', 'ReopenContainerLog', { containerId: id });
  }

  // ---- events

  getContainerEvents(listener: (ev: ContainerEvent) => void): () => void {
    this.events.on('event', listener);
    this.ensurePoller();
    return () => {
      this.events.off('event', listener);
      if (this.events.listenerCount('event') === 0 && this.poller) {
        clearInterval(this.poller);
        this.poller = undefined;
      }
    };
  }

  private ensurePoller(): void {
    if (this.poller || this.closed) return;
    this.poller = setInterval(() => void this.pollExits(), this.opts.exitPollMs ?? 200);
    this.poller.unref();
  }

  private async pollExits(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const c of await this.listContainers({ state: 'CONTAINER_EXITED' })) this.emit(c.id, c.podSandboxId, 'CONTAINER_STOPPED_EVENT');
    } catch {
      // the daemon may be restarting; the next tick tries again
    } finally {
      this.polling = false;
    }
  }

  private async noticeExit(id: string): Promise<void> {
    const s = await this.containerStatus(id).catch(() => undefined);
    if (s?.state === 'CONTAINER_EXITED') this.emit(id, this.sandboxOf.get(id) ?? '', 'CONTAINER_STOPPED_EVENT');
  }

  /** Emits `type` unless this container already got it (or a later one): each event once, in order. */
  private emit(containerId: string, podSandboxId: string, type: EventType): void {
    const order: EventType[] = ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT', 'CONTAINER_STOPPED_EVENT', 'CONTAINER_DELETED_EVENT'];
    const last = this.emitted.get(containerId);
    if (last && order.indexOf(last) >= order.indexOf(type)) return;
    // A container that exits is started first (a poll may notice the exit before StartContainer returns).
    if (type === 'CONTAINER_STOPPED_EVENT' && last === 'CONTAINER_CREATED_EVENT') {
      this.emitted.set(containerId, 'CONTAINER_STARTED_EVENT');
      this.events.emit('event', { containerId, containerEventType: 'CONTAINER_STARTED_EVENT', createdAt: nowNanos(), podSandboxId } satisfies ContainerEvent);
    }
    this.emitted.set(containerId, type);
    if (type === 'CONTAINER_DELETED_EVENT') setTimeout(() => this.emitted.delete(containerId), 60_000).unref();
    this.events.emit('event', { containerId, containerEventType: type, createdAt: nowNanos(), podSandboxId } satisfies ContainerEvent);
  }

  // ---- images

  async pullImage(image: ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    const a = auth
      ? { username: auth.username ?? '', password: auth.password ?? '', auth: auth.auth ?? '', serverAddress: auth.serverAddress ?? '', identityToken: auth.identityToken ?? '', registryToken: auth.registryToken ?? '' }
      : null;
    const r = await this.call('image', 'PullImage', { image, auth: a, sandboxConfig: sandboxConfig ?? null }, 30 * 60_000);
    return r.imageRef;
  }

  async listImages(filter?: { image?: ImageSpec }): Promise<Image[]> {
    const r = await this.call('image', 'ListImages', { filter: filter?.image ? { image: filter.image } : null });
    return (r.images ?? []).map(toImage);
  }

  async imageStatus(image: ImageSpec): Promise<Image | undefined> {
    const r = await this.call('image', 'ImageStatus', { image });
    return r.image ? toImage(r.image) : undefined;
  }

  async removeImage(image: ImageSpec): Promise<void> {
    await this.call('image', 'RemoveImage', { image });
  }

  /** CRI ImageFsInfo: where images live (statfs that mountpoint for capacity) and what they use. */
  async imageFsInfo(): Promise<{ mountpoint: string; usedBytes?: number; inodesUsed?: number; timestamp: number }[]> {
    const r = await this.call('image', 'ImageFsInfo', {});
    return (r.imageFilesystems ?? []).map((f: any) => ({ mountpoint: f.fsId?.mountpoint ?? '', usedBytes: u64(f.usedBytes), inodesUsed: u64(f.inodesUsed), timestamp: Number(f.timestamp ?? 0) }));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    this.c.close();
    await this.opts.supervisor?.stop();
  }
}

/** UInt64Value → number (unset wrappers are undefined). */
const u64 = (w: any): number | undefined => (w && w.value !== undefined && w.value !== null ? Number(w.value) : undefined);

function toStats(s: any): ContainerStats {
  const a = s?.attributes ?? {};
  const cpu = s?.cpu;
  const mem = s?.memory;
  const wl = s?.writableLayer;
  return {
    id: a.id ?? '',
    metadata: a.metadata ?? { name: '', attempt: 0 },
    labels: a.labels ?? {},
    annotations: a.annotations ?? {},
    timestamp: Number(cpu?.timestamp || mem?.timestamp || 0),
    cpu: cpu ? { usageCoreNanoSeconds: u64(cpu.usageCoreNanoSeconds), usageNanoCores: u64(cpu.usageNanoCores) } : undefined,
    memory: mem
      ? { workingSetBytes: u64(mem.workingSetBytes), availableBytes: u64(mem.availableBytes), usageBytes: u64(mem.usageBytes), rssBytes: u64(mem.rssBytes), pageFaults: u64(mem.pageFaults), majorPageFaults: u64(mem.majorPageFaults) }
      : undefined,
    writableLayer: wl ? { usedBytes: u64(wl.usedBytes), inodesUsed: u64(wl.inodesUsed), mountpoint: wl.fsId?.mountpoint } : undefined,
  };
}

function toImage(i: any): Image {
  const img: Image = { id: i.id, repoTags: i.repoTags ?? [], repoDigests: i.repoDigests ?? [], size: Number(i.size ?? 0) };
  // Int64Value uid is present only when the image's user is numeric (proto-loader gives null otherwise).
  if (i.uid && typeof i.uid.value === 'number') img.uid = i.uid.value;
  if (i.username) img.username = i.username;
  // CRI Image.pinned (containerd ≥ 1.7 and CRI-O pin their sandbox image): image GC skips it.
  if (i.pinned) (img as Image & { pinned?: boolean }).pinned = true;
  return img;
}

export interface StartContainerdOptions extends Partial<SupervisorOptions> {
  /** Use an existing CRI endpoint instead of running containerd (`--container-runtime-endpoint`). */
  endpoint?: string;
  exitPollMs?: number;
}

/**
 * A containerd runtime, not yet started: it connects to `endpoint`, or runs containerd under
 * `dir` once start() is called (synchronous so the kubelet can construct it in its constructor).
 */
export function containerdRuntime(o: StartContainerdOptions): ContainerdRuntime {
  if (o.endpoint) return new ContainerdRuntime({ endpoint: o.endpoint, exitPollMs: o.exitPollMs });
  if (!o.dir) throw new RuntimeError('InvalidArgument', 'containerd runtime: a directory (or an endpoint) is required');
  const supervisor = new ContainerdSupervisor({ ...o, dir: o.dir });
  return new ContainerdRuntime({ endpoint: supervisor.endpoint, supervisor, exitPollMs: o.exitPollMs });
}

/** containerdRuntime(), started. */
export async function startContainerdRuntime(o: StartContainerdOptions): Promise<ContainerdRuntime> {
  const rt = containerdRuntime(o);
  try {
    await rt.start();
  } catch (e) {
    await rt.close().catch(() => undefined);
    throw e;
  }
  return rt;
}
