/**
 * Node-level figures of the kubelet's /stats/summary, from /proc and statfs (upstream takes them
 * from cAdvisor's root cgroup; on a host without cgroup accounting for us, /proc says the same).
 * CPU usageNanoCores needs two samples: the collector keeps the previous one.
 */
import { readFileSync } from 'node:fs';
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
