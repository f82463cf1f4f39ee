/**
 * The `process` runtime: no root, no daemons. A pod sandbox is a directory plus a loopback IP
 * from the node's pod range; each container is a host process group (spawned detached) with its
 * command, args, env and working dir; stdout/stderr go to CRI-format log files. As root on Linux
 * each container also gets a cgroup under `skiff/pod<uid>` enforcing memory/CPU limits.
 *
 * Limits of the model (documented for users): there is no filesystem isolation (mounts are mapped
 * by rewriting paths, see paths.ts), no image entrypoints (a container needs `command`, or `args`
 * alone, which then run as the whole command line, as with an image without ENTRYPOINT such as
 * busybox, alpine or debian: `kubectl run -it x --image=busybox -- sh`), and the
 * processes die with the agent (they cannot be re-adopted: their log pipes end with it).
 */
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  RuntimeError,
  nowNanos,
  type AttachRequest,
  type AttachSession,
  type Container,
  type ContainerConfig,
  type ContainerEvent,
  type ContainerFilter,
  type ContainerStats,
  type ContainerStatsFilter,
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
  LABEL_POD_UID,
} from '../cri.js';
import { CriLogWriter, DEFAULT_ROTATION, type LogRotation } from './logwriter.js';
import { detectCgroups, type Cgroups } from './cgroup.js';
import { mountsEnv, pathMapper } from './paths.js';
import { which } from './which.js';
import { createSpawner, HelperSpawner, type Spawned, type Spawner, type SpawnSpec, type SpawnUser } from './spawner.js';
import { LoopbackIPAM } from './ipam.js';
import { ProcessGroupStats } from '../../kubelet/nodestats.js';
import type { PodNetwork, PodNetworkResult } from '../../network/pod/types.js';
import { managedHostsFile } from '../hosts.js';
import { parseResolvConf } from '../../kubelet/dns.js';

/** The CRI runtime handlers the process runtime serves (RuntimeClass.handler). */
export const PROCESS_RUNTIME_HANDLERS: readonly string[] = ['runc'];

export const NEEDS_COMMAND_MESSAGE =
  'the process runtime runs host processes and needs `command` or `args` (image entrypoints need the containerd runtime: skiff agent --runtime containerd)';

const execFileP = promisify(execFile);

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ProcessRuntimeOptions {
  /** The runtime's state directory (sandboxes need no directory of their own today). */
  root: string;
  podCIDR?: string;
  rotation?: LogRotation;
  /** Force cgroups off (tests) or on when detected (default: detect). */
  cgroups?: boolean;
  /**
   * The node's pod network (cni / netns / loopback). Each sandbox gets its IP from it, and in the
   * root modes its processes run inside the pod's network namespace. Without it, pods get legacy
   * loopback addresses (127.x of the pod range), which cannot back Services.
   */
  network?: PodNetwork;
  /** Where per-netns files live for `ip netns exec` to bind over /etc (default /etc/netns). */
  netnsEtcDir?: string;
  /** Where pods' UTS namespaces are kept (bind-mounted files, as `ip netns` keeps network ones; default /run/skiff-uts). */
  utsDir?: string;
  /**
   * How processes are started: 'helper' (default when gcc is there) forks from a tiny helper so
   * the agent's event loop never forks itself; 'direct' uses child_process.spawn. Env
   * SKIFF_PROCESS_SPAWNER overrides the default.
   */
  spawner?: 'helper' | 'direct';
}

/** Env var naming the address a pod's processes should bind: its IP, or its 127 alias in loopback mode. */
export const LISTEN_IP_ENV = 'SKIFF_LISTEN_IP';

interface Sandbox {
  id: string;
  config: PodSandboxConfig;
  state: PodSandboxStatus['state'];
  createdAt: number;
  ip?: string;
  net?: PodNetworkResult;
  /** The pod's UTS namespace (root modes): its hostname is the pod's, as with a real runtime. */
  uts?: string;
  /**
   * hostNetwork pods whose resolver is not the host's (ClusterFirstWithHostNet, None): a name on
   * the node's own network namespace, so `ip netns exec` binds their resolv.conf over /etc.
   */
  hostNetns?: string;
}

/** The agent's uid never changes: one syscall, not one per container. */
const AGENT_UID = process.getuid?.();

interface Proc {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  state: ContainerStatus['state'];
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  logPath: string;
  child?: Spawned;
  exited?: Promise<void>;
  cgroup?: string;
  oomBefore: number;
  /** Processes exec'd into the container (probes, hooks, kubectl exec): they die with it. */
  execs?: Set<Spawned>;
}

export class ProcessRuntime implements Runtime {
  readonly name = 'process';
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly containers = new Map<string, Proc>();
  /** CPU and memory of each running container's process group, from /proc (keeps the last CPU reading for rates). */
  private readonly groupStats = new ProcessGroupStats();
  private readonly images = new Map<string, Image>();
  private readonly events = new EventEmitter();
  private readonly cg: Cgroups | undefined;
  private ipam: LoopbackIPAM;
  private configuredCIDR?: string;
  private readonly ipBin = which('ip', DEFAULT_PATH) ?? 'ip';
  private readonly nsenterBin = which('nsenter', DEFAULT_PATH);
  private readonly unshareBin = which('unshare', DEFAULT_PATH);
  private spawnerP?: Promise<Spawner>;
  /** The kind of the last spawner started (for what can be enforced without waiting for it). */
  private spawnerKind_?: 'helper' | 'direct';
  /** Sandbox and container ids by pod UID label: the kubelet lists by it on every sync. */
  private readonly byPod = new Map<string, Set<string>>();

  constructor(private readonly opts: ProcessRuntimeOptions) {
    this.cg = opts.cgroups === false ? undefined : detectCgroups();
    this.ipam = new LoopbackIPAM(opts.podCIDR ?? '127.100.0.0/16');
    this.events.setMaxListeners(0);
  }

  /** The spawner, started on first use (and again if its helper was killed). */
  private async spawner(): Promise<Spawner> {
    const cur = this.spawnerP ? await this.spawnerP : undefined;
    if (cur && (cur.kind === 'direct' || (cur as { alive?: boolean }).alive !== false)) return cur;
    this.spawnerP = createSpawner(this.opts.spawner);
    void this.spawnerP.then((sp) => (this.spawnerKind_ = sp.kind));
    return this.spawnerP;
  }

  /** Which spawner runs the containers ('helper' or 'direct'). */
  async spawnerKind(): Promise<'helper' | 'direct'> {
    return (await this.spawner()).kind;
  }

  /**
   * A process of container c: its netns wrap in argv, its cgroup joined by the spawner before exec,
   * its user (runAsUser/runAsGroup/supplementalGroups, root agents only) and no_new_privs.
   */
  private spawnSpec(c: Proc, spec: { argv: string[]; env: Record<string, string>; cwd: string }, stdin: boolean, tty: boolean, sp: Spawner): SpawnSpec {
    const sbx = this.sandboxes.get(c.sandboxId);
    const ns = sbx?.net?.netnsName ?? sbx?.hostNetns;
    const user = containerUser(c.config);
    const file = which(spec.argv[0], spec.env.PATH) ?? spec.argv[0];
    let argv = spec.argv;
    let passUser = user;
    if (ns) {
      // ip netns exec needs root, so the user changes after it: the helper binary runs as
      // `--as uid gid groups file argv…` inside the namespace.
      if (user && sp instanceof HelperSpawner) argv = [sp.bin, '--as', String(user.uid), String(user.gid), user.groups.join(','), file, ...spec.argv.slice(1)];
      // ip netns exec remounts /sys in a new mount namespace, hiding /sys/fs/cgroup: the cgroup is
      // joined before it runs, never from inside it.
      argv = [this.ipBin, 'netns', 'exec', ns, ...argv];
      passUser = undefined;
    }
    const uts = ns ? this.sandboxes.get(c.sandboxId)?.uts : undefined;
    if (uts) argv = [this.nsenterBin!, `--uts=${uts}`, '--', ...argv];
    return {
      file: uts ? this.nsenterBin! : ns ? this.ipBin : file,
      argv,
      cwd: spec.cwd,
      env: spec.env,
      stdin,
      tty,
      cgroupProcs: this.cg && c.cgroup ? this.cg.procsFiles(c.cgroup) : undefined,
      user: passUser,
      noNewPrivs: !!c.config.linux?.securityContext?.noNewPrivs,
    };
  }

  /** What of the container's security context host processes cannot honour (see unenforcedSecurity in cri.ts). */
  unenforcedSecurity(config: ContainerConfig): string[] {
    const sc = config.linux?.securityContext ?? {};
    const out: string[] = [];
    const root = AGENT_UID === 0;
    if (!root && (sc.runAsUser || sc.runAsGroup || sc.supplementalGroups?.length)) out.push(`runAsUser/runAsGroup/supplementalGroups (the agent is not root: processes run as uid ${AGENT_UID})`);
    const direct = this.spawnerKind_ === 'direct';
    if (root && direct && sc.supplementalGroups?.length) out.push('supplementalGroups (no spawner helper: gcc is missing)');
    if (direct && sc.noNewPrivs) out.push('allowPrivilegeEscalation: false (no spawner helper: gcc is missing)');
    if (sc.capabilities?.dropCapabilities?.length || sc.capabilities?.addCapabilities?.length) out.push('capabilities');
    if (sc.readonlyRootfs) out.push('readOnlyRootFilesystem');
    if (sc.seccomp && sc.seccomp.profileType !== 'Unconfined') out.push(`seccompProfile ${sc.seccomp.profileType}`);
    if (sc.apparmor && sc.apparmor.profileType !== 'Unconfined') out.push(`appArmorProfile ${sc.apparmor.profileType}`);
    return out;
  }

  get cgroupVersion(): 1 | 2 | undefined {
    return this.cg?.version;
  }

  async version(): Promise<VersionResponse> {
    return { version: '0.1.0', runtimeName: 'skiff-process', runtimeVersion: '0.1.0', runtimeApiVersion: 'v1' };
  }

  async updateRuntimeConfig(config: RuntimeConfig): Promise<void> {
    const cidr = config.networkConfig?.podCidr;
    if (!cidr) return;
    // As a CRI runtime configures its CNI from the podCIDR the kubelet hands it.
    if (this.opts.network) {
      if (cidr !== this.configuredCIDR) await this.opts.network.configure(cidr);
      this.configuredCIDR = cidr;
      return;
    }
    if (cidr !== this.ipam.cidr) this.ipam = new LoopbackIPAM(cidr, this.ipam);
  }

  /** The pod's network namespace name (root modes), for callers that run things inside it. */
  netnsOf(sandboxId: string): string | undefined {
    return this.sandboxes.get(sandboxId)?.net?.netnsName;
  }

  private netnsEtc(name: string): string {
    return path.join(this.opts.netnsEtcDir ?? '/etc/netns', name);
  }

  /** resolv.conf (and hosts) that `ip netns exec` binds over /etc for the pod's processes. */
  private writeNetnsFiles(sb: Sandbox): void {
    const name = sb.net?.netnsName;
    if (!name) return;
    const dir = this.netnsEtc(name);
    mkdirSync(dir, { recursive: true });
    const dns = sb.config.dnsConfig;
    if (dns) writeFileSync(path.join(dir, 'resolv.conf'), resolvConf(dns));
    const host = sb.config.hostname ?? sb.config.metadata.name;
    writeFileSync(path.join(dir, 'hosts'), managedHostsFile(sb.ip ? [sb.ip] : [], host, sb.config.hosts));
    // As the kubelet's /etc/hostname mount.
    writeFileSync(path.join(dir, 'hostname'), `${host}\n`);
  }

  /**
   * A UTS namespace of the pod's own, kept in a bind-mounted file under utsDir, with the pod's
   * hostname (`hostname`, gethostname(), `hostname -f` with the hosts file). Best effort: without
   * unshare/nsenter the pod keeps the node's hostname, as before.
   */
  private async setUpUts(sb: Sandbox): Promise<void> {
    if (!this.unshareBin || !this.nsenterBin) return;
    const dir = this.opts.utsDir ?? '/run/skiff-uts';
    const file = path.join(dir, sb.id);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, '');
      await execFileP(this.unshareBin, [`--uts=${file}`, 'hostname', sb.config.hostname ?? sb.config.metadata.name]);
      sb.uts = file;
    } catch {
      await this.tearDownUts(file);
    }
  }

  private async setUpHostNetns(sb: Sandbox): Promise<void> {
    const want = resolvConf(sb.config.dnsConfig!);
    let host = '';
    try {
      host = resolvConf(parseResolvConf(readFileSync('/etc/resolv.conf', 'utf8')));
    } catch {
      /* no host file: the pod's is needed all the more */
    }
    if (want === host) return;
    const name = `skiff-hostnet-${sb.id.slice(0, 12)}`;
    try {
      await execFileP(this.ipBin, ['netns', 'attach', name, String(process.pid)]);
      const dir = this.netnsEtc(name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'resolv.conf'), want);
      sb.hostNetns = name;
    } catch {
      // Best effort, as before: the pod then reads the node's resolv.conf.
      await execFileP(this.ipBin, ['netns', 'delete', name]).catch(() => undefined);
    }
  }

  private async tearDownUts(file: string): Promise<void> {
    await execFileP('umount', [file]).catch(() => undefined);
    rmSync(file, { force: true });
  }

  // ---- sandboxes

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    // One way of running pods, under containerd's default handler name so RuntimeClasses written for it work here.
    if (runtimeHandler && !PROCESS_RUNTIME_HANDLERS.includes(runtimeHandler)) {
      throw new RuntimeError('NotFound', `failed to get sandbox runtime: no runtime for "${runtimeHandler}" is configured`);
    }
    const id = randomBytes(16).toString('hex');
    // A sandbox needs no directory of its own (volumes live under the kubelet's pod dir), and its
    // log directory is made with its first container's log file (one filesystem call fewer per pod).
    const sb: Sandbox = { id, config, state: 'SANDBOX_READY', createdAt: nowNanos() };
    if (config.linux?.securityContext?.namespaceOptions?.network === 'NODE') {
      // hostNetwork: the host's namespace; the kubelet reports the node IP.
      if (config.dnsConfig && this.opts.network && this.opts.network.mode !== 'loopback' && AGENT_UID === 0) await this.setUpHostNetns(sb);
    } else if (this.opts.network) {
      const m = config.metadata;
      try {
        sb.net = await this.opts.network.setUp({ uid: m.uid, namespace: m.namespace, name: m.name, sandboxId: id });
        sb.ip = sb.net.ip;
        this.writeNetnsFiles(sb);
        if (sb.net.netnsName) await this.setUpUts(sb);
      } catch (e) {
        await this.opts.network.tearDown({ uid: m.uid, namespace: m.namespace, name: m.name, sandboxId: id }).catch(() => undefined);
        throw new RuntimeError('Internal', `failed to set up the network of pod sandbox ${m.namespace}/${m.name}: ${(e as Error).message}`);
      }
    } else sb.ip = this.ipam.allocate(id);
    this.sandboxes.set(id, sb);
    this.index(config.labels, id, true);
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    const sb = this.sandboxes.get(id);
    if (!sb) return; // CRI: stopping a missing sandbox is not an error
    await Promise.all([...this.containers.values()].filter((c) => c.sandboxId === id).map((c) => this.stopContainer(c.id, 0)));
    sb.state = 'SANDBOX_NOTREADY';
    if (sb.net && this.opts.network) {
      const m = sb.config.metadata;
      await this.opts.network.tearDown({ uid: m.uid, namespace: m.namespace, name: m.name, sandboxId: id });
      if (sb.net.netnsName) rmSync(this.netnsEtc(sb.net.netnsName), { recursive: true, force: true });
      sb.net = undefined;
      if (sb.uts) await this.tearDownUts(sb.uts);
      sb.uts = undefined;
    } else if (sb.hostNetns) {
      await execFileP(this.ipBin, ['netns', 'delete', sb.hostNetns]).catch(() => undefined);
      rmSync(this.netnsEtc(sb.hostNetns), { recursive: true, force: true });
      sb.hostNetns = undefined;
    } else this.ipam.release(id);
  }

  async removePodSandbox(id: string): Promise<void> {
    const sb = this.sandboxes.get(id);
    if (!sb) return;
    await this.stopPodSandbox(id);
    for (const c of [...this.containers.values()]) if (c.sandboxId === id) await this.removeContainer(c.id);
    this.sandboxes.delete(id);
    this.index(sb.config.labels, id, false);
    this.cg?.remove(`skiff/pod${sb.config.metadata.uid}`);
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const sb = this.sandbox(id);
    return {
      id,
      metadata: { ...sb.config.metadata },
      state: sb.state,
      createdAt: sb.createdAt,
      network: sb.state === 'SANDBOX_READY' && sb.ip ? { ip: sb.ip, additionalIps: [] } : { ip: '' },
      labels: { ...sb.config.labels },
      annotations: { ...sb.config.annotations },
    };
  }

  private index(labels: Record<string, string> | undefined, id: string, add: boolean): void {
    const uid = labels?.[LABEL_POD_UID];
    if (uid === undefined) return;
    let set = this.byPod.get(uid);
    if (add) {
      if (!set) this.byPod.set(uid, (set = new Set()));
      set.add(id);
    } else if (set) {
      set.delete(id);
      if (!set.size) this.byPod.delete(uid);
    }
  }

  /** The candidates for a filter: the pod's own objects when it selects by pod UID, else all. */
  private candidates<T>(all: Map<string, T>, sel: Record<string, string> | undefined): Iterable<T> {
    const uid = sel?.[LABEL_POD_UID];
    if (uid === undefined) return all.values();
    return [...(this.byPod.get(uid) ?? [])].map((id) => all.get(id)).filter((x): x is T => x !== undefined);
  }

  async listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    return [...this.candidates(this.sandboxes, filter.labelSelector)]
      .filter((s) => (!filter.id || s.id === filter.id) && (!filter.state || s.state === filter.state) && labelsMatch(s.config.labels, filter.labelSelector))
      .map((s) => ({ id: s.id, metadata: { ...s.config.metadata }, state: s.state, createdAt: s.createdAt, labels: { ...s.config.labels }, annotations: { ...s.config.annotations } }));
  }

  private sandbox(id: string): Sandbox {
    const sb = this.sandboxes.get(id);
    if (!sb) throw new RuntimeError('NotFound', `pod sandbox "${id}" not found`);
    return sb;
  }

  // ---- containers

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const sb = this.sandbox(podSandboxId);
    if (sb.state !== 'SANDBOX_READY') throw new RuntimeError('FailedPrecondition', `pod sandbox "${podSandboxId}" is not ready`);
    if (!config.command?.length && !config.args?.length) throw new RuntimeError('InvalidArgument', NEEDS_COMMAND_MESSAGE);
    const id = randomBytes(16).toString('hex');
    const logDir = sandboxConfig.logDirectory || sb.config.logDirectory;
    const logPath = path.join(logDir, config.logPath ?? `${config.metadata.name}/${config.metadata.attempt}.log`);
    const c: Proc = {
      id,
      sandboxId: podSandboxId,
      config,
      state: 'CONTAINER_CREATED',
      createdAt: nowNanos(),
      startedAt: 0,
      finishedAt: 0,
      exitCode: 0,
      reason: '',
      message: '',
      logPath,
      oomBefore: 0,
    };
    if (this.cg) {
      c.cgroup = `skiff/pod${sb.config.metadata.uid}/${id}`;
      await this.cg.create(c.cgroup, config.linux?.resources);
    }
    this.containers.set(id, c);
    this.index(config.labels, id, true);
    this.emit(c, 'CONTAINER_CREATED_EVENT');
    return id;
  }

  /** The process's view: argv, env and cwd with mount paths mapped (see paths.ts). */
  private processSpec(c: Proc, argv: string[]): { argv: string[]; env: Record<string, string>; cwd: string } {
    const sb = this.sandboxes.get(c.sandboxId)!;
    const map = pathMapper(c.config.mounts);
    const env: Record<string, string> = { PATH: DEFAULT_PATH, HOSTNAME: sb.config.hostname ?? sb.config.metadata.name, HOME: process.env.HOME ?? '/' };
    if (c.config.tty) env.TERM = 'xterm';
    if (sb.net) env[LISTEN_IP_ENV] = sb.net.listenIP;
    for (const kv of c.config.envs ?? []) env[kv.key] = map(kv.value);
    if (c.config.mounts?.length) env.SKIFF_MOUNTS = mountsEnv(c.config.mounts);
    const cwd = c.config.workingDir ? map(c.config.workingDir) : '/';
    return { argv: argv.map(map), env, cwd };
  }

  async startContainer(id: string): Promise<void> {
    const c = this.container(id);
    if (c.state !== 'CONTAINER_CREATED') throw new RuntimeError('FailedPrecondition', `container "${id}" is in state ${c.state}, not created`);
    const spec = this.processSpec(c, [...(c.config.command ?? []), ...(c.config.args ?? [])]);
    const exe = which(spec.argv[0], spec.env.PATH);
    if (!exe) {
      this.finish(c, 128, 'StartError', `exec: "${spec.argv[0]}": executable file not found in $PATH`);
      throw new RuntimeError('Internal', c.message);
    }
    const log = await CriLogWriter.open(c.logPath, this.opts.rotation ?? DEFAULT_ROTATION);
    // The cgroup is this container's own, made in createContainer: it starts with no OOM kills,
    // so oomBefore stays 0 without a read of cgroupfs on the start path.
    let child: Spawned;
    try {
      const sp = await this.spawner();
      // A terminal needs the helper (it owns the pty); without one the container runs on pipes.
      child = await sp.spawn(this.spawnSpec(c, spec, !!c.config.stdin, !!c.config.tty && sp.kind === 'helper', sp));
    } catch (e) {
      void log.done();
      this.finish(c, 128, 'StartError', (e as Error).message);
      throw new RuntimeError('Internal', c.message);
    }
    if (c.state !== 'CONTAINER_CREATED') {
      // Stopped or removed while it was starting.
      killGroup(child, 'SIGKILL');
      throw new RuntimeError('FailedPrecondition', `container "${id}" was stopped while starting`);
    }
    c.child = child;
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = nowNanos();
    log.attach(child.stdout!, 'stdout');
    log.attach(child.stderr!, 'stderr');
    c.exited = new Promise<void>((resolve) => {
      child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        // The container's init process is gone: take the rest of its group with it, and what was
        // exec'd into it (a preStop hook still running), as the kernel does for a PID namespace.
        killGroup(child, 'SIGKILL');
        for (const e of c.execs ?? []) killGroup(e, 'SIGKILL');
        c.execs?.clear();
        const exitCode = code ?? 128 + (signal ? (osConstants.signals as Record<string, number>)[signal] ?? 0 : 0);
        const oom = c.cgroup ? this.cg!.oomKills(c.cgroup) > c.oomBefore : false;
        const settle = () => {
          this.finish(c, exitCode, oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error', '');
          resolve();
        };
        // Logs first, so a reader that sees "exited" also sees the last lines.
        const t = setTimeout(settle, 2000);
        void log.done().then(() => {
          clearTimeout(t);
          settle();
        });
      });
    });
    this.emit(c, 'CONTAINER_STARTED_EVENT');
  }

  private finish(c: Proc, exitCode: number, reason: string, message: string): void {
    if (c.state === 'CONTAINER_EXITED') return;
    c.state = 'CONTAINER_EXITED';
    c.exitCode = exitCode;
    c.reason = reason;
    c.message = message;
    c.finishedAt = nowNanos();
    if (!c.startedAt) c.startedAt = c.finishedAt;
    c.child = undefined;
    this.emit(c, 'CONTAINER_STOPPED_EVENT');
  }

  async stopContainer(id: string, timeout: number): Promise<void> {
    const c = this.container(id);
    if (c.state === 'CONTAINER_CREATED') {
      this.finish(c, 0, 'Completed', '');
      return;
    }
    if (c.state !== 'CONTAINER_RUNNING' || !c.child) {
      await c.exited;
      return;
    }
    const child = c.child;
    if (timeout > 0) {
      killGroup(child, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([c.exited!.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeout * 1000)))]);
      clearTimeout(timer);
      if (!timedOut) return;
    }
    killGroup(child, 'SIGKILL');
    await c.exited;
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    if (c.state === 'CONTAINER_RUNNING') await this.stopContainer(id, 0);
    this.containers.delete(id);
    this.index(c.config.labels, id, false);
    if (c.cgroup) this.cg!.remove(c.cgroup);
    rmSync(c.logPath, { force: true });
    this.emit(c, 'CONTAINER_DELETED_EVENT');
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const c = this.container(id);
    return {
      id,
      metadata: { ...c.config.metadata },
      state: c.state,
      createdAt: c.createdAt,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      exitCode: c.exitCode,
      image: { ...c.config.image },
      imageRef: imageRef(c.config.image.image),
      reason: c.reason,
      message: c.message,
      labels: { ...c.config.labels },
      annotations: { ...c.config.annotations },
      mounts: c.config.mounts?.map((m) => ({ ...m })),
      logPath: c.logPath,
    };
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    return [...this.candidates(this.containers, filter.labelSelector)]
      .filter((c) => (!filter.id || c.id === filter.id) && (!filter.state || c.state === filter.state) && (!filter.podSandboxId || c.sandboxId === filter.podSandboxId) && labelsMatch(c.config.labels, filter.labelSelector))
      .map((c) => ({
        id: c.id,
        podSandboxId: c.sandboxId,
        metadata: { ...c.config.metadata },
        image: { ...c.config.image },
        imageRef: imageRef(c.config.image.image),
        state: c.state,
        createdAt: c.createdAt,
        labels: { ...c.config.labels },
        annotations: { ...c.config.annotations },
      }));
  }

  /**
   * CRI ListContainerStats: a running container's figures are those of its process group (every
   * process its command started, which keep its group), read from /proc. Containers that are not
   * running, or whose group is gone, are left out.
   */
  async listContainerStats(filter: ContainerStatsFilter = {}): Promise<ContainerStats[]> {
    const running = [...this.candidates(this.containers, filter.labelSelector)].filter(
      (c) => c.state === 'CONTAINER_RUNNING' && c.child?.pid && (!filter.id || c.id === filter.id) && (!filter.podSandboxId || c.sandboxId === filter.podSandboxId) && labelsMatch(c.config.labels, filter.labelSelector),
    );
    if (!running.length) return [];
    const figures = this.groupStats.collect(running.map((c) => c.child!.pid));
    const out: ContainerStats[] = [];
    for (const c of running) {
      const f = figures.get(c.child!.pid);
      if (!f) continue;
      out.push({
        id: c.id,
        metadata: { ...c.config.metadata },
        labels: { ...c.config.labels },
        annotations: { ...c.config.annotations },
        timestamp: f.timestampNs,
        cpu: { usageCoreNanoSeconds: f.usageCoreNanoSeconds, ...(f.usageNanoCores !== undefined ? { usageNanoCores: f.usageNanoCores } : {}) },
        memory: { workingSetBytes: f.workingSetBytes, usageBytes: f.workingSetBytes, rssBytes: f.workingSetBytes },
      });
    }
    return out;
  }

  async containerStats(id: string): Promise<ContainerStats> {
    this.container(id);
    const [s] = await this.listContainerStats({ id });
    if (!s) throw new RuntimeError('NotFound', `no stats for container "${id}": it is not running`);
    return s;
  }

  private container(id: string): Proc {
    const c = this.containers.get(id);
    if (!c) throw new RuntimeError('NotFound', `container "${id}" not found`);
    return c;
  }

  private running(id: string): Proc {
    const c = this.container(id);
    if (c.state !== 'CONTAINER_RUNNING') throw new RuntimeError('FailedPrecondition', `container ${id} is not running`);
    return c;
  }

  // ---- exec

  /** Remembers an exec'd process until it exits; one started into a container that just exited dies at once. */
  private trackExec(c: Proc, child: Spawned): void {
    if (c.state !== 'CONTAINER_RUNNING') return killGroup(child, 'SIGKILL');
    (c.execs ??= new Set()).add(child);
    child.once('exit', () => c.execs?.delete(child));
  }

  async execSync(id: string, cmd: string[], timeout: number): Promise<ExecSyncResponse> {
    const c = this.running(id);
    const spec = this.processSpec(c, cmd);
    if (!which(spec.argv[0], spec.env.PATH)) {
      return { stdout: Buffer.alloc(0), stderr: Buffer.from(`exec: "${spec.argv[0]}": executable file not found in $PATH\n`), exitCode: 126 };
    }
    let child: Spawned;
    try {
      // Probes run here every few seconds: through the spawner too, never a fork of the agent.
      const sp = await this.spawner();
      child = await sp.spawn(this.spawnSpec(c, spec, false, false, sp));
    } catch (e) {
      throw new RuntimeError('Internal', (e as Error).message);
    }
    this.trackExec(c, child);
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (d: Buffer) => out.push(d));
      child.stderr!.on('data', (d: Buffer) => err.push(d));
      let timer: NodeJS.Timeout | undefined;
      if (timeout > 0) {
        timer = setTimeout(() => {
          killGroup(child, 'SIGKILL');
          reject(new RuntimeError('DeadlineExceeded', `command ${JSON.stringify(cmd)} timed out after ${timeout}s`));
        }, timeout * 1000);
      }
      // 'close' of a ChildProcess: exited and both streams drained.
      let left = 3;
      let exitCode = 0;
      const done = () => {
        if (--left > 0) return;
        clearTimeout(timer);
        resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode });
      };
      child.stdout.once('end', done);
      child.stderr.once('end', done);
      child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        // Its group goes with it, so a lingering grandchild cannot hold the streams open.
        killGroup(child, 'SIGKILL');
        exitCode = code ?? 128 + ((osConstants.signals as Record<string, number>)[signal ?? ''] ?? 0);
        done();
      });
    });
  }

  async exec(req: ExecRequest): Promise<ExecSession> {
    const c = this.running(req.containerId);
    const spec = this.processSpec(c, req.cmd);
    if (req.tty) spec.env.TERM ??= 'xterm';
    if (!which(spec.argv[0], spec.env.PATH)) throw new RuntimeError('NotFound', `exec: "${spec.argv[0]}": executable file not found in $PATH`);
    return this.execViaSpawner(c, spec, !!req.stdin, !!req.tty);
  }

  /** An exec through the spawner (no fork of the agent); with a TTY on a pty the helper opens. */
  private async execViaSpawner(c: Proc, spec: { argv: string[]; env: Record<string, string>; cwd: string }, stdin: boolean, tty: boolean): Promise<ExecSession> {
    let child: Spawned;
    try {
      const sp = await this.spawner();
      child = await sp.spawn(this.spawnSpec(c, spec, stdin, tty, sp));
    } catch (e) {
      throw new RuntimeError('Internal', (e as Error).message);
    }
    this.trackExec(c, child);
    // As a ChildProcess's 'close': exited and both streams drained; then its group goes too.
    const exit = new Promise<number>((resolve) => {
      let left = 3;
      let exitCode = 0;
      const done = () => {
        if (--left > 0) return;
        killGroup(child, 'SIGKILL');
        resolve(exitCode);
      };
      // 'finish' (all written into the stream), not 'end': the caller may never read stderr. A
      // quick command may have finished already, before this line ran.
      for (const st of [child.stdout, child.stderr] as unknown as Writable[]) {
        if (st.writableFinished) done();
        else st.once('finish', done);
      }
      child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        exitCode = code ?? 128 + ((osConstants.signals as Record<string, number>)[signal ?? ''] ?? 0);
        done();
      });
    });
    child.stdin?.on('error', () => undefined);
    return {
      stdin: stdin ? child.stdin ?? undefined : undefined,
      stdout: child.stdout,
      stderr: tty ? undefined : child.stderr,
      resize: (w, h) => child.resize?.(w, h),
      exit,
      kill: () => killGroup(child, 'SIGKILL'),
    };
  }

  /**
   * kubectl attach: the container's output from now on (its log keeps everything), its stdin when
   * it has one (`stdin: true`). With `stdinOnce`, the first session to close stdin closes the
   * container's, as upstream.
   */
  async attach(req: AttachRequest): Promise<AttachSession> {
    const c = this.running(req.containerId);
    const child = c.child!;
    const tty = !!c.config.tty && !!child.resize;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const onOut = (d: string | Buffer) => stdout.write(d);
    const onErr = (d: string | Buffer) => stderr.write(d);
    if (req.stdout !== false) child.stdout.on('data', onOut);
    if (req.stderr && !tty) child.stderr.on('data', onErr);
    let detached = false;
    const detach = () => {
      if (detached) return;
      detached = true;
      child.stdout.off('data', onOut);
      child.stderr.off('data', onErr);
      stdout.end();
      stderr.end();
    };
    const target = child.stdin;
    const stdin =
      req.stdin && c.config.stdin && target
        ? new Writable({
            write: (chunk, _enc, cb) => {
              if (target.writable) target.write(chunk, () => cb());
              else cb();
            },
            final: (cb) => {
              if (c.config.stdinOnce) target.end();
              cb();
            },
          })
        : undefined;
    const exit = c.exited!.then(() => {
      detach();
      return c.exitCode;
    });
    return { stdin, stdout, stderr: tty ? undefined : stderr, resize: (w, h) => child.resize?.(w, h), exit, detach };
  }

  async reopenContainerLog(id: string): Promise<void> {
    this.running(id);
    // The writer rotates by itself; nothing is held open across an external rename here.
  }

  getContainerEvents(listener: (ev: ContainerEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  private emit(c: Proc, type: ContainerEvent['containerEventType']): void {
    this.events.emit('event', { containerId: c.id, containerEventType: type, createdAt: nowNanos(), podSandboxId: c.sandboxId } satisfies ContainerEvent);
  }

  // ---- images: host processes need none; pulls are recorded so the kubelet's events read true.

  async pullImage(image: ImageSpec): Promise<string> {
    const ref = imageRef(image.image);
    // The "image user" is the agent's: a container without runAsUser runs as the agent does, so
    // runAsNonRoot is checked against it (upstream's "image will run as root").
    this.images.set(ref, { id: ref, repoTags: [image.image], repoDigests: [], size: 0, uid: AGENT_UID });
    return ref;
  }

  async listImages(filter?: { image?: ImageSpec }): Promise<Image[]> {
    const all = [...this.images.values()];
    return filter?.image ? all.filter((i) => i.repoTags.includes(filter.image!.image)) : all;
  }

  async imageStatus(image: ImageSpec): Promise<Image | undefined> {
    return this.images.get(imageRef(image.image));
  }

  async removeImage(image: ImageSpec): Promise<void> {
    this.images.delete(imageRef(image.image));
  }

  async close(): Promise<void> {
    await Promise.all([...this.containers.values()].filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => this.stopContainer(c.id, 0)));
    for (const c of this.containers.values()) if (c.cgroup) this.cg!.remove(c.cgroup);
    for (const sb of this.sandboxes.values()) if (this.cg) this.cg.remove(`skiff/pod${sb.config.metadata.uid}`);
    // The processes die with the runtime, so do their namespaces, veths and addresses.
    for (const sb of this.sandboxes.values()) if (sb.net || sb.hostNetns) await this.stopPodSandbox(sb.id).catch(() => undefined);
    const sp = this.spawnerP;
    this.spawnerP = undefined;
    await (await sp)?.close();
  }
}

/** A resolv.conf from the CRI DNS config, as container runtimes write it. */
export function resolvConf(d: NonNullable<PodSandboxConfig['dnsConfig']>): string {
  const lines: string[] = [];
  if (d.searches?.length) lines.push(`search ${d.searches.join(' ')}`);
  for (const s of d.servers ?? []) lines.push(`nameserver ${s}`);
  if (d.options?.length) lines.push(`options ${d.options.join(' ')}`);
  return lines.join('\n') + '\n';
}

/**
 * The user a container's processes run as, when the agent can switch users (root): runAsUser, its
 * runAsGroup or else the user's primary group in /etc/passwd (0 without an entry, as runtimes do
 * for an image without one), and the supplemental groups (fsGroup first).
 */
export function containerUser(config: ContainerConfig, passwd = readPasswd): SpawnUser | undefined {
  const sc = config.linux?.securityContext;
  if (AGENT_UID !== 0 || !sc) return undefined;
  const uid = sc.runAsUser?.value;
  const gid = sc.runAsGroup?.value;
  const groups = sc.supplementalGroups ?? [];
  if (uid === undefined && gid === undefined && !groups.length) return undefined;
  const u = uid ?? 0;
  return { uid: u, gid: gid ?? passwd().get(u) ?? 0, groups: [...new Set(groups)] };
}

let passwdCache: Map<number, number> | undefined;
function readPasswd(): Map<number, number> {
  if (passwdCache) return passwdCache;
  passwdCache = new Map();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 4 && !passwdCache.has(Number(f[2]))) passwdCache.set(Number(f[2]), Number(f[3]));
    }
  } catch {
    // no passwd: primary group 0
  }
  return passwdCache;
}

function imageRef(image: string): string {
  return `process://${image}`;
}

function killGroup(child: { pid?: number }, signal: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      process.kill(child.pid, signal);
    } catch {
      // already gone
    }
  }
}

function labelsMatch(labels: Record<string, string> | undefined, sel: Record<string, string> | undefined): boolean {
  if (!sel) return true;
  return Object.entries(sel).every(([k, v]) => labels?.[k] === v);
}
