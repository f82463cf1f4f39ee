/**
 * Node-level figures of the kubelet's /stats/summary, from /proc and statfs (upstream takes them
 * from cAdvisor's root cgroup; on a host without cgroup accounting for us, /proc says the same).
 * CPU usageNanoCores needs two samples: the collector keeps the previous one.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import type { CPUStats, FsStats, MemoryStats } from '../runtime/containerd/summary.js';

/** USER_HZ: /proc/stat counts clock ticks of 1/100 s on Linux. */
const TICK_NS = 1e7;

/** Total non-idle CPU time of all cores (ns) from /proc/stat's aggregate `cpu` line. */
export function parseProcStatCpu(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice).
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return [user, nice, system, irq, softirq, steal].reduce((a, x) => a + (Number.isFinite(x) ? x : 0), 0) * TICK_NS;
}

/** Boot time (unix seconds) from /proc/stat's `btime`. */
export function parseBootTime(text: string): number | undefined {
  const m = /^btime\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Memory as upstream reports the node's: working set = usage − inactive file pages; available = capacity − working set. */
export function parseMeminfo(text: string, time: string): MemoryStats | undefined {
  const kb = (k: string) => {
    const m = new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  const free = kb('MemFree');
  if (total === undefined || free === undefined) return undefined;
  const usage = total - free;
  const workingSet = Math.max(0, usage - (kb('Inactive\\(file\\)') ?? 0));
  const rss = kb('AnonPages');
  return { time, availableBytes: total - workingSet, usageBytes: usage, workingSetBytes: workingSet, ...(rss !== undefined ? { rssBytes: rss } : {}) };
}

export interface NodeStats {
  nodeStartTime?: string;
  nodeCpu?: CPUStats;
  nodeMemory?: MemoryStats;
  nodeFs?: FsStats;
}

export class NodeStatsCollector {
  private prev?: { at: number; usage: number };

  constructor(
    private readonly fsPath: string,
    private readonly read: (file: string) => string = (f) => readFileSync(f, 'utf8'),
    private readonly now: () => number = Date.now,
  ) {}

  async collect(): Promise<NodeStats> {
    const at = this.now();
    const time = new Date(at).toISOString();
    const out: NodeStats = {};
    const stat = this.tryRead('/proc/stat');
    if (stat !== undefined) {
      const btime = parseBootTime(stat);
      if (btime !== undefined) out.nodeStartTime = new Date(btime * 1000).toISOString();
      const usage = parseProcStatCpu(stat);
      if (usage !== undefined) {
        const cpu: CPUStats = { time, usageCoreNanoSeconds: usage };
        const p = this.prev;
        if (p && at > p.at && usage >= p.usage) cpu.usageNanoCores = Math.round(((usage - p.usage) / ((at - p.at) * 1e6)) * 1e9);
        this.prev = { at, usage };
        out.nodeCpu = cpu;
      }
    }
    const meminfo = this.tryRead('/proc/meminfo');
    if (meminfo !== undefined) out.nodeMemory = parseMeminfo(meminfo, time);
    const s = await statfs(this.fsPath).catch(() => undefined);
    if (s) {
      out.nodeFs = {
        time,
        capacityBytes: s.blocks * s.bsize,
        availableBytes: s.bavail * s.bsize,
        usedBytes: (s.blocks - s.bfree) * s.bsize,
        inodesUsed: s.files - s.ffree,
      };
    }
    return out;
  }

  private tryRead(f: string): string | undefined {
    try {
      return this.read(f);
    } catch {
      return undefined;
    }
  }
}

/** One process's figures from /proc/PID/stat: its group, CPU (own + reaped children, ns) and RSS. */
export interface ProcStat {
  pid: number;
  pgid: number;
  cpuNs: number;
  rssBytes: number;
}

/** Parses /proc/PID/stat (fields after the parenthesised command name, which may hold spaces). */
export function parseProcPidStat(pid: number, text: string, pageSize = 4096): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).trim().split(/\s+/);
  // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime … rss(21)
  const n = (i: number) => Number(f[i]) || 0;
  if (f.length < 22) return undefined;
  return { pid, pgid: n(2), cpuNs: (n(11) + n(12) + n(13) + n(14)) * TICK_NS, rssBytes: n(21) * pageSize };
}

/**
 * CPU and memory of host process groups, as the process runtime's containers are (each container
 * is the leader of its own group): the container_* figures cAdvisor would take from the container's
 * cgroup. CPU counts the group's live processes plus the children they reaped, so a shell running
 * short commands is charged for them. usageNanoCores needs two samples: the previous is kept per group.
 */
export class ProcessGroupStats {
  private prev = new Map<number, { at: number; cpu: number }>();

  constructor(
    private readonly read: (file: string) => string = (f) => readFileSync(f, 'utf8'),
    private readonly listPids: () => number[] = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number),
    private readonly now: () => number = Date.now,
  ) {}

  /** Figures per requested group leader; groups that are gone are left out. */
  collect(pgids: readonly number[]): Map<number, { timestampNs: number; usageCoreNanoSeconds: number; usageNanoCores?: number; workingSetBytes: number }> {
    const want = new Set(pgids);
    const acc = new Map<number, { cpu: number; rss: number }>();
    for (const pid of want.size ? this.listPids() : []) {
      let st: ProcStat | undefined;
      try {
        st = parseProcPidStat(pid, this.read(`/proc/${pid}/stat`));
      } catch {
        continue; // exited while we looked
      }
      if (!st || !want.has(st.pgid)) continue;
      const a = acc.get(st.pgid) ?? { cpu: 0, rss: 0 };
      a.cpu += st.cpuNs;
      a.rss += st.rssBytes;
      acc.set(st.pgid, a);
    }
    const at = this.now();
    const out = new Map<number, { timestampNs: number; usageCoreNanoSeconds: number; usageNanoCores?: number; workingSetBytes: number }>();
    const next = new Map<number, { at: number; cpu: number }>();
    for (const [pgid, a] of acc) {
      const p = this.prev.get(pgid);
      const r: { timestampNs: number; usageCoreNanoSeconds: number; usageNanoCores?: number; workingSetBytes: number } = { timestampNs: at * 1e6, usageCoreNanoSeconds: a.cpu, workingSetBytes: a.rss };
      if (p && at > p.at && a.cpu >= p.cpu) r.usageNanoCores = Math.round(((a.cpu - p.cpu) / ((at - p.at) * 1e6)) * 1e9);
      out.set(pgid, r);
      next.set(pgid, { at, cpu: a.cpu });
    }
    this.prev = next;
    return out;
  }
}
