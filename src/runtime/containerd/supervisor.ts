/**
 * Runs a containerd of Skiff's own: config, root/state dirs, socket, CNI config (bridge +
 * host-local over the node's pod range) and a locally built pause image, all under one
 * directory. Ready in well under a second; stop() removes the pods it ran (their shims would
 * outlive containerd otherwise), stops the daemon and undoes mounts and the bridge.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { SkiffError } from '../../util/errors.js';
import { pauseImage, PAUSE_IMAGE } from '../../images/testimages.js';
import { CNI_CONF_FILE, cniConflist, cniTemplate, containerdConfig, type CniOptions, type ContainerdPaths } from './config.js';
import { criClients } from './proto.js';

const execFileP = promisify(execFile);

export class ContainerdError extends SkiffError {
  constructor(message: string, opts?: { cause?: unknown }) {
    super('ContainerdError', message, opts);
  }
}

export const K8S_NAMESPACE = 'k8s.io';
export const DEFAULT_CNI_BIN_DIR = '/usr/lib/cni';

export interface SupervisorOptions {
  /** Everything lives here (created if missing). */
  dir: string;
  /** Pod range for the initial CNI config; CRI UpdateRuntimeConfig can replace it later. */
  podCIDR?: string;
  cniBinDir?: string;
  /** Registry mirrors: host → endpoints (`docker.io` → [`http://127.0.0.1:5000`]). */
  mirrors?: Record<string, string[]>;
  /** Leave pods running on stop() (default: remove them). */
  keepPods?: boolean;
  log?: (msg: string) => void;
}

/** Why a containerd cannot be run here, or undefined. */
export function containerdMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'containerd runtime needs root';
  for (const bin of ['containerd', 'runc', 'ctr', 'containerd-shim-runc-v2']) {
    if (!['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/bin', '/sbin'].some((d) => existsSync(path.join(d, bin)))) return `${bin} is not installed (apt-get install containerd runc)`;
  }
  if (!existsSync(path.join(DEFAULT_CNI_BIN_DIR, 'bridge'))) return 'CNI plugins are not installed (apt-get install containernetworking-plugins)';
  if (!['/usr/bin/gcc', '/usr/local/bin/gcc'].some(existsSync)) return 'gcc is needed to build the pause image';
  return undefined;
}

/** Where the kubelet with data dir `kubeletDataDir` runs its containerd. */
export function containerdDir(kubeletDataDir: string): string {
  return path.join(kubeletDataDir, 'containerd');
}

export class ContainerdSupervisor {
  readonly paths: ContainerdPaths;
  readonly cni: CniOptions;
  private child?: ChildProcess;
  /** containerd's own accounting cgroup (see joinAccountingCgroup), when one could be made. */
  private cgroup?: AccountingCgroup;
  private readonly tag: string;
  private started?: Promise<void>;
  private exited?: Promise<void>;

  constructor(private readonly opts: SupervisorOptions) {
    const dir = path.resolve(opts.dir);
    const tag = createHash('sha256').update(dir).digest('hex').slice(0, 8);
    this.tag = tag;
    // unix socket paths are limited to 108 bytes: fall back to a short path keyed by the dir.
    const runDir = path.join(dir, 'run');
    const shortRun = runDir.length > 80 ? `/run/skiff-${tag}` : runDir;
    this.paths = {
      root: path.join(dir, 'root'),
      state: path.join(shortRun, 'state'),
      socket: path.join(shortRun, 'containerd.sock'),
      opt: path.join(dir, 'opt'),
      cniBinDir: opts.cniBinDir ?? DEFAULT_CNI_BIN_DIR,
      cniConfDir: path.join(dir, 'cni', 'net.d'),
      cniTemplate: path.join(dir, 'cni', 'template.conflist'),
    };
    this.cni = { name: `skiff-${tag}`, bridge: `skb${tag.slice(0, 8)}`, ipamDataDir: path.join(dir, 'cni', 'ipam') };
  }

  get endpoint(): string {
    return `unix://${this.paths.socket}`;
  }

  /** Where CRI mounts pod network namespaces (netns_mounts_under_state_dir: ours alone, not /run/netns). */
  get netnsDir(): string {
    return path.join(this.paths.state, 'io.containerd.grpc.v1.cri', 'netns');
  }

  /** Whether start() has been called (and stop() not since). */
  get running(): boolean {
    return this.started !== undefined;
  }

  log(msg: string): void {
    this.opts.log?.(msg);
  }

  private get pidFile(): string {
    return path.join(this.opts.dir, 'containerd.pid');
  }

  private get logFile(): string {
    return path.join(this.opts.dir, 'containerd.log');
  }

  /** Starts once; later calls wait for the first. */
  start(): Promise<void> {
    this.started ??= this.doStart();
    return this.started;
  }

  private async doStart(): Promise<void> {
    const p = this.paths;
    for (const d of [p.root, p.state, p.opt, p.cniConfDir, this.cni.ipamDataDir]) mkdirSync(d, { recursive: true });
    writeFileSync(p.cniTemplate, cniTemplate(this.cni));
    if (this.opts.podCIDR) writeFileSync(path.join(p.cniConfDir, CNI_CONF_FILE), cniConflist(this.cni, this.opts.podCIDR));
    const configFile = path.join(this.opts.dir, 'config.toml');
    writeFileSync(configFile, containerdConfig({ paths: p, sandboxImage: PAUSE_IMAGE, mirrors: this.opts.mirrors }));
    // A containerd of an earlier run that was killed (kill -9 of skiff leaves its child running)
    // holds the metadata lock: stop it. Its shims, and so the pods, outlive it; the new daemon
    // reconnects to them.
    await stopStaleDaemon(this.pidFile, configFile, (m) => this.log(m));
    rmSync(p.socket, { force: true });

    const out = openSync(this.logFile, 'a');
    // A process group of its own: a Ctrl-C at the terminal reaches Skiff, which then stops its pods
    // and containerd in order; it used to reach containerd too, so the pods' removal found no socket.
    // A daemon left behind by a crash is stopped at the next start (stopStaleDaemon).
    const child = spawn('containerd', ['--config', configFile], { stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    this.child = child;
    if (child.pid) writeFileSync(this.pidFile, String(child.pid));
    if (child.pid) this.cgroup = joinAccountingCgroup(`skiff-containerd-${this.tag}`, child.pid);
    this.exited = new Promise((r) => child.once('exit', () => r()));
    let died = false;
    void this.exited.then(() => (died = true));

    const clients = criClients(this.endpoint);
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (died) throw new ContainerdError(`containerd exited during start-up; see ${this.logFile}:\n${this.logTail()}`);
        const ok = await new Promise<boolean>((resolve) => {
          clients.runtime.Version({ version: 'v1' }, { deadline: Date.now() + 1000 }, (err: Error | null) => resolve(!err));
        });
        if (ok) break;
        if (Date.now() > deadline) throw new ContainerdError(`containerd did not answer on ${p.socket} within 15s; see ${this.logFile}:\n${this.logTail()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } catch (e) {
      clients.close();
      await this.stopDaemon();
      throw e;
    }
    clients.close();
    await this.importImage(this.pauseArchive());
  }

  /**
   * CPU (ms) used so far by containerd and everything it started that stays in its cgroup: shims
   * (which leave its process tree), runc, runc init until it joins the container's cgroup, CNI
   * plugins. Undefined where no accounting cgroup could be made.
   */
  cpuUsageMs(): number | undefined {
    return this.cgroup?.usageMs();
  }

  private logTail(): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  }

  private pauseArchive(): string {
    const file = path.join(this.opts.dir, 'images', 'pause.tar');
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, pauseImage(path.join(this.opts.dir, 'images')).archive());
    }
    return file;
  }

  /**
   * The node's pod range. Before any CNI config exists CRI renders it from the template on
   * UpdateRuntimeConfig; once one exists CRI skips that, so the config is rewritten here and
   * containerd reloads it (it watches the directory).
   */
  async setPodCIDR(cidr: string): Promise<boolean> {
    const file = path.join(this.paths.cniConfDir, CNI_CONF_FILE);
    if (!existsSync(file)) return false;
    const next = cniConflist(this.cni, cidr);
    if (readFileSync(file, 'utf8') === next) return true;
    writeFileSync(`${file}.tmp`, next);
    renameSync(`${file}.tmp`, file);
    // The reload is asynchronous (fsnotify); give it a moment before sandboxes use the new range.
    await new Promise((r) => setTimeout(r, 200));
    return true;
  }

  /** `ctr images import` into the CRI namespace (OCI or docker-archive tarballs). */
  async importImage(file: string): Promise<string> {
    return importArchive(this.endpoint, file);
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    this.started = undefined;
    if (!this.opts.keepPods) await removeAllPods(this.endpoint).catch((e) => this.opts.log?.(`containerd: removing pods: ${(e as Error).message}`));
    await this.stopDaemon();
    this.cgroup?.remove();
    this.cgroup = undefined;
    await unmountUnder([this.opts.dir, path.dirname(this.paths.state)]);
    await execFileP('ip', ['link', 'del', this.cni.bridge]).catch(() => undefined);
  }

  private async stopDaemon(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
    this.child = undefined;
    rmSync(this.pidFile, { force: true });
  }
}

interface AccountingCgroup {
  usageMs(): number;
  remove(): void;
}

/**
 * Puts `pid` into a cgroup of its own for CPU accounting only (cgroup v1 cpuacct, or a v2 leaf),
 * as a service manager would: its children (shims, runc, CNI plugins) inherit it, so their CPU is
 * counted even after they leave containerd's process tree. Best effort: undefined if not possible.
 */
function joinAccountingCgroup(name: string, pid: number): AccountingCgroup | undefined {
  const v1 = '/sys/fs/cgroup/cpuacct';
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : undefined;
  const base = existsSync(path.join(v1, 'cpuacct.usage')) ? v1 : v2;
  if (!base) return undefined;
  const dir = path.join(base, name);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
  } catch {
    return undefined;
  }
  return {
    usageMs: () => {
      if (base === v1) return Number(readFileSync(path.join(dir, 'cpuacct.usage'), 'utf8')) / 1e6;
      const m = /usage_usec (\d+)/.exec(readFileSync(path.join(dir, 'cpu.stat'), 'utf8'));
      return m ? Number(m[1]) / 1000 : 0;
    },
    // Fails while shims of kept pods still live in it; the next start joins the same cgroup.
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        // still in use
      }
    },
  };
}

/** Stops the daemon named by `pidFile` if it still runs with `configFile` (else the pid was reused). */
async function stopStaleDaemon(pidFile: string, configFile: string, log: (m: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  const alive = () => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv.includes(configFile) && path.basename(argv[0]) === 'containerd';
    } catch {
      return false;
    }
  };
  if (!(pid > 0) || !alive()) return;
  log(`containerd: stopping the daemon of an earlier run (pid ${pid})`);
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  };
  kill('SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive()) {
    if (Date.now() > deadline) {
      kill('SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  while (alive()) await new Promise((r) => setTimeout(r, 20));
}

/** Imports a tarball with `ctr` (the address may be unix:// or a path); returns ctr's output. */
export async function importArchive(endpoint: string, file: string): Promise<string> {
  const address = endpoint.replace(/^unix:\/\//, '');
  try {
    const { stdout } = await execFileP('ctr', ['--address', address, '--namespace', K8S_NAMESPACE, 'images', 'import', '--all-platforms', file], { maxBuffer: 4 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new ContainerdError(`ctr images import ${file} failed: ${(err.stderr ?? err.message).trim()}`, { cause: e });
  }
}

/** Stops and removes every pod sandbox (and so every container) through CRI. */
export async function removeAllPods(endpoint: string): Promise<void> {
  const c = criClients(endpoint);
  const call = (method: string, req: object) =>
    new Promise<any>((resolve, reject) => c.runtime[method](req, { deadline: Date.now() + 30_000 }, (err: Error | null, res: any) => (err ? reject(err) : resolve(res))));
  try {
    const { items } = await call('ListPodSandbox', {});
    await Promise.all(
      (items as any[]).map(async (sb) => {
        await call('StopPodSandbox', { podSandboxId: sb.id });
        await call('RemovePodSandbox', { podSandboxId: sb.id });
      }),
    );
  } finally {
    c.close();
  }
}

/** Lazily unmounts whatever is still mounted under the given dirs (deepest first). */
async function unmountUnder(dirs: string[]): Promise<void> {
  let mounts: string[];
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
      .filter((m): m is string => !!m && dirs.some((d) => m === d || m.startsWith(`${path.resolve(d)}/`)));
  } catch {
    return;
  }
  for (const m of mounts.sort((a, b) => b.length - a.length)) await execFileP('umount', ['-l', m]).catch(() => undefined);
}

export function randomTag(): string {
  return randomBytes(4).toString('hex');
}
