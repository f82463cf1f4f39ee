import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LinuxContainerResources } from '../cri.js';
import { mkdirParentAndSelf } from './mkdir2.js';

/**
 * Per-container cgroups under a per-pod parent, for cgroup v1 (one hierarchy per controller:
 * memory, cpu, pids) and v2 (unified). Used only when running as root on Linux; otherwise
 * `detectCgroups()` returns undefined and limits are not enforced.
 */
export interface Cgroups {
  readonly version: 1 | 2;
  /**
   * Creates (idempotently) the cgroup for `rel` (e.g. "skiff/pod<uid>/<cid>") with limits. Async:
   * cgroupfs mkdirs cost the kernel a while, better spent on libuv's threads than the event loop.
   */
  create(rel: string, res?: LinuxContainerResources): Promise<void>;
  /** The cgroup.procs files a process must be written into to join `rel`. */
  procsFiles(rel: string): string[];
  /** How many times the kernel OOM-killed a process in `rel`. */
  oomKills(rel: string): number;
  remove(rel: string): void;
}

const ROOT = '/sys/fs/cgroup';

export function detectCgroups(root = ROOT): Cgroups | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  if (existsSync(path.join(root, 'cgroup.controllers'))) return new V2(root);
  if (existsSync(path.join(root, 'memory', 'memory.limit_in_bytes'))) return new V1(root);
  return undefined;
}

async function tryWrite(file: string, value: string): Promise<void> {
  try {
    await writeFile(file, value);
  } catch {
    // A controller setting the kernel refuses (e.g. no CFS) is not fatal: the process still runs.
  }
}

function readCount(file: string, key: string): number {
  try {
    const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

class V1 implements Cgroups {
  readonly version = 1 as const;
  private readonly controllers: string[];
  constructor(private readonly root: string) {
    this.controllers = ['memory', 'cpu', 'pids'].filter((c) => existsSync(path.join(root, c)));
  }
  private dir(c: string, rel: string): string {
    return path.join(this.root, c, rel);
  }
  async create(rel: string, res: LinuxContainerResources = {}): Promise<void> {
    await Promise.all(this.controllers.map((c) => mkdirParentAndSelf(this.dir(c, rel))));
    if (res.memoryLimitInBytes) await tryWrite(path.join(this.dir('memory', rel), 'memory.limit_in_bytes'), String(res.memoryLimitInBytes));
    if (this.controllers.includes('cpu')) {
      if (res.cpuQuota && res.cpuPeriod) {
        await tryWrite(path.join(this.dir('cpu', rel), 'cpu.cfs_period_us'), String(res.cpuPeriod));
        await tryWrite(path.join(this.dir('cpu', rel), 'cpu.cfs_quota_us'), String(res.cpuQuota));
      }
      if (res.cpuShares) await tryWrite(path.join(this.dir('cpu', rel), 'cpu.shares'), String(res.cpuShares));
    }
  }
  procsFiles(rel: string): string[] {
    return this.controllers.map((c) => path.join(this.dir(c, rel), 'cgroup.procs'));
  }
  oomKills(rel: string): number {
    return readCount(path.join(this.dir('memory', rel), 'memory.oom_control'), 'oom_kill');
  }
  remove(rel: string): void {
    for (const c of this.controllers) {
      try {
        rmdirSync(this.dir(c, rel));
      } catch {
        // busy or gone
      }
    }
  }
}

class V2 implements Cgroups {
  readonly version = 2 as const;
  constructor(private readonly root: string) {}
  async create(rel: string, res: LinuxContainerResources = {}): Promise<void> {
    // Enable controllers down the path so the leaf can take limits.
    const parts = rel.split('/');
    let cur = this.root;
    for (const p of parts) {
      await tryWrite(path.join(cur, 'cgroup.subtree_control'), '+memory +cpu +pids');
      cur = path.join(cur, p);
      await mkdir(cur, { recursive: true });
    }
    if (res.memoryLimitInBytes) await tryWrite(path.join(cur, 'memory.max'), String(res.memoryLimitInBytes));
    if (res.cpuQuota && res.cpuPeriod) await tryWrite(path.join(cur, 'cpu.max'), `${res.cpuQuota} ${res.cpuPeriod}`);
    if (res.cpuShares) await tryWrite(path.join(cur, 'cpu.weight'), String(Math.max(1, Math.min(10000, Math.round(1 + ((res.cpuShares - 2) * 9999) / 262142)))));
  }
  procsFiles(rel: string): string[] {
    return [path.join(this.root, rel, 'cgroup.procs')];
  }
  oomKills(rel: string): number {
    return readCount(path.join(this.root, rel, 'memory.events'), 'oom_kill');
  }
  remove(rel: string): void {
    try {
      rmdirSync(path.join(this.root, rel));
    } catch {
      // busy or gone
    }
  }
}
