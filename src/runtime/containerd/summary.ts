/**
 * The kubelet's `/stats/summary` (stats/v1alpha1 Summary) from CRI: containers' ContainerStats
 * grouped into pods by the labels the kubelet puts on every container (io.kubernetes.pod.*,
 * io.kubernetes.container.name), pod CPU and memory as the sum of its containers, the image
 * filesystem from ImageFsInfo plus statfs. Pure: the caller gathers the inputs
 * (collectStatsSummary does it for a CRI runtime); works for any runtime that reports stats.
 */
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID, type Container, type ContainerStats, type Runtime } from '../cri.js';
import { statfs } from 'node:fs/promises';

export interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesUsed?: number;
}

export interface CPUStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
}

export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes?: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

export interface ContainerSummary {
  name: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
  rootfs?: FsStats;
}

export interface PodSummary {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerSummary[];
  cpu?: CPUStats;
  memory?: MemoryStats;
}

export interface Summary {
  node: { nodeName: string; startTime?: string; cpu?: CPUStats; memory?: MemoryStats; fs?: FsStats; runtime?: { imageFs?: FsStats } };
  pods: PodSummary[];
}

const iso = (nanos: number) => new Date(Math.floor(nanos / 1e6)).toISOString();
const sum = (xs: (number | undefined)[]) => (xs.some((x) => x !== undefined) ? xs.reduce<number>((a, x) => a + (x ?? 0), 0) : undefined);

export interface SummaryInput {
  nodeName: string;
  nodeStartTime?: string;
  /** ListContainerStats (running containers). */
  stats: ContainerStats[];
  /** ListContainers, for creation times (containers without stats are left out, as upstream). */
  containers: Pick<Container, 'id' | 'createdAt'>[];
  imageFs?: FsStats;
  nodeFs?: FsStats;
  nodeCpu?: CPUStats;
  nodeMemory?: MemoryStats;
}

export function statsSummary(i: SummaryInput): Summary {
  const created = new Map(i.containers.map((c) => [c.id, c.createdAt]));
  const pods = new Map<string, PodSummary>();
  for (const s of i.stats) {
    const l = s.labels ?? {};
    const uid = l[LABEL_POD_UID];
    if (!uid) continue; // not a kubelet's container
    const startNanos = created.get(s.id) ?? s.timestamp;
    let p = pods.get(uid);
    if (!p) pods.set(uid, (p = { podRef: { name: l[LABEL_POD_NAME] ?? '', namespace: l[LABEL_POD_NAMESPACE] ?? '', uid }, startTime: iso(startNanos), containers: [] }));
    if (iso(startNanos) < p.startTime) p.startTime = iso(startNanos);
    const time = iso(s.timestamp);
    const c: ContainerSummary = { name: l[LABEL_CONTAINER_NAME] ?? s.metadata.name, startTime: iso(startNanos) };
    if (s.cpu) c.cpu = { time, usageNanoCores: s.cpu.usageNanoCores, usageCoreNanoSeconds: s.cpu.usageCoreNanoSeconds };
    if (s.memory) c.memory = { time, ...s.memory };
    if (s.writableLayer) c.rootfs = { time, usedBytes: s.writableLayer.usedBytes, inodesUsed: s.writableLayer.inodesUsed, capacityBytes: i.imageFs?.capacityBytes, availableBytes: i.imageFs?.availableBytes };
    p.containers.push(c);
  }
  for (const p of pods.values()) {
    p.containers.sort((a, b) => a.name.localeCompare(b.name));
    const time = p.containers.map((c) => c.cpu?.time ?? c.memory?.time ?? '').sort().pop() ?? new Date().toISOString();
    const cpu = p.containers.map((c) => c.cpu);
    if (cpu.some(Boolean)) p.cpu = { time, usageNanoCores: sum(cpu.map((x) => x?.usageNanoCores)), usageCoreNanoSeconds: sum(cpu.map((x) => x?.usageCoreNanoSeconds)) };
    const mem = p.containers.map((c) => c.memory);
    if (mem.some(Boolean)) p.memory = { time, usageBytes: sum(mem.map((x) => x?.usageBytes)), workingSetBytes: sum(mem.map((x) => x?.workingSetBytes)), rssBytes: sum(mem.map((x) => x?.rssBytes)), pageFaults: sum(mem.map((x) => x?.pageFaults)), majorPageFaults: sum(mem.map((x) => x?.majorPageFaults)) };
  }
  const node: Summary['node'] = { nodeName: i.nodeName };
  if (i.nodeStartTime) node.startTime = i.nodeStartTime;
  if (i.nodeCpu) node.cpu = i.nodeCpu;
  if (i.nodeMemory) node.memory = i.nodeMemory;
  if (i.nodeFs) node.fs = i.nodeFs;
  if (i.imageFs) node.runtime = { imageFs: i.imageFs };
  return { node, pods: [...pods.values()].sort((a, b) => `${a.podRef.namespace}/${a.podRef.name}`.localeCompare(`${b.podRef.namespace}/${b.podRef.name}`)) };
}

/** The runtime's side of the summary: its containers' stats and, when it reports one, its image filesystem. */
export async function collectStatsSummary(
  runtime: Pick<Runtime, 'listContainers' | 'listContainerStats'> & { imageFsInfo?: () => Promise<{ mountpoint: string; usedBytes?: number; inodesUsed?: number }[]> },
  node: Omit<SummaryInput, 'stats' | 'containers' | 'imageFs'>,
): Promise<Summary> {
  const [stats, containers, fsInfo] = await Promise.all([runtime.listContainerStats?.() ?? [], runtime.listContainers(), runtime.imageFsInfo?.().catch(() => []) ?? []]);
  let imageFs: FsStats | undefined;
  const f = fsInfo[0];
  if (f?.mountpoint) {
    const s = await statfs(f.mountpoint).catch(() => undefined);
    imageFs = { time: new Date().toISOString(), usedBytes: f.usedBytes, inodesUsed: f.inodesUsed, ...(s ? { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize } : {}) };
  }
  return statsSummary({ ...node, stats, containers, imageFs });
}
