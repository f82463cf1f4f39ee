/**
 * The kubelet's Prometheus endpoints, with upstream's metric names and labels:
 *   /metrics/resource  the resource metrics metrics-server scrapes (pkg/kubelet/metrics/collectors/resource_metrics.go)
 *   /metrics/cadvisor  a subset of cAdvisor's container_* series
 *   /metrics           the kubelet's own: running pods/containers, pod start and worker latencies, process_*
 * All three are rendered from the stats summary (and the runtime's container list) on scrape.
 */
import type { Runtime, ContainerStats } from '../runtime/cri.js';
import { statsSummary, type Summary } from '../runtime/containerd/summary.js';
import { Histogram, TextWriter, labelString, writeProcessMetrics } from '../apiserver/metrics/prom.js';
import { ProcessGroupStats } from './nodestats.js';

const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : undefined);

/** GET /metrics/resource from a stats summary. `error` says the summary could not be had (resource_scrape_error 1). */
export function renderResourceMetrics(summary: Summary | undefined, error = false): string {
  const w = new TextWriter();
  const pods = summary?.pods ?? [];
  const node = summary?.node;
  const ctr = (p: Summary['pods'][number], name: string) => labelString({ container: name, namespace: p.podRef.namespace, pod: p.podRef.name });
  const pod = (p: Summary['pods'][number]) => labelString({ namespace: p.podRef.namespace, pod: p.podRef.name });

  w.family('container_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the container in core-seconds');
  for (const p of pods) for (const c of p.containers) if (c.cpu?.usageCoreNanoSeconds !== undefined) w.sample('container_cpu_usage_seconds_total', ctr(p, c.name), c.cpu.usageCoreNanoSeconds / 1e9, ms(c.cpu.time));
  w.family('container_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the container in bytes');
  for (const p of pods) for (const c of p.containers) if (c.memory?.workingSetBytes !== undefined) w.sample('container_memory_working_set_bytes', ctr(p, c.name), c.memory.workingSetBytes, ms(c.memory.time));
  w.family('container_start_time_seconds', 'gauge', '[STABLE] Start time of the container since unix epoch in seconds');
  for (const p of pods) for (const c of p.containers) if (c.startTime) w.sample('container_start_time_seconds', ctr(p, c.name), Date.parse(c.startTime) / 1000, ms(c.startTime));
  w.family('node_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the node in core-seconds');
  if (node?.cpu?.usageCoreNanoSeconds !== undefined) w.sample('node_cpu_usage_seconds_total', undefined, node.cpu.usageCoreNanoSeconds / 1e9, ms(node.cpu.time));
  w.family('node_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the node in bytes');
  if (node?.memory?.workingSetBytes !== undefined) w.sample('node_memory_working_set_bytes', undefined, node.memory.workingSetBytes, ms(node.memory.time));
  w.family('pod_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds');
  for (const p of pods) if (p.cpu?.usageCoreNanoSeconds !== undefined) w.sample('pod_cpu_usage_seconds_total', pod(p), p.cpu.usageCoreNanoSeconds / 1e9, ms(p.cpu.time));
  w.family('pod_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the pod in bytes');
  for (const p of pods) if (p.memory?.workingSetBytes !== undefined) w.sample('pod_memory_working_set_bytes', pod(p), p.memory.workingSetBytes, ms(p.memory.time));
  w.family('resource_scrape_error', 'gauge', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise').sample('resource_scrape_error', undefined, error ? 1 : 0);
  w.family('scrape_error', 'gauge', '[ALPHA] 1 if there was an error while getting container metrics, 0 otherwise').sample('scrape_error', undefined, error ? 1 : 0);
  return w.text();
}

/** What /metrics/cadvisor adds to the summary: each running container's id and image, and memory limits from the pod specs. */
export interface CadvisorInput {
  summary: Summary;
  containers: { id: string; podUid: string; name: string; image: string }[];
  /** Memory limits in bytes by `podUid/container` (0 or absent: unlimited, as cAdvisor reports). */
  memoryLimits?: Map<string, number>;
}

export function renderCadvisorMetrics(i: CadvisorInput): string {
  const w = new TextWriter();
  const byKey = new Map(i.containers.map((c) => [`${c.podUid}/${c.name}`, c]));
  type Row = { labels: string; cpu?: number; ws?: number; usage?: number; limit: number; t?: number };
  const rows: Row[] = [];
  for (const p of i.summary.pods) {
    for (const c of p.containers) {
      const rc = byKey.get(`${p.podRef.uid}/${c.name}`);
      const id = `/kubepods/pod${p.podRef.uid}/${rc?.id ?? ''}`;
      rows.push({
        labels: labelString({ container: c.name, id, image: rc?.image ?? '', name: rc?.id ?? '', namespace: p.podRef.namespace, pod: p.podRef.name }),
        cpu: c.cpu?.usageCoreNanoSeconds,
        ws: c.memory?.workingSetBytes,
        usage: c.memory?.usageBytes ?? c.memory?.workingSetBytes,
        limit: i.memoryLimits?.get(`${p.podRef.uid}/${c.name}`) ?? 0,
        t: ms(c.cpu?.time ?? c.memory?.time),
      });
    }
  }
  w.family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed in seconds.');
  for (const r of rows) if (r.cpu !== undefined) w.sample('container_cpu_usage_seconds_total', r.labels.slice(0, -1) + ',cpu="total"}', r.cpu / 1e9, r.t);
  w.family('container_memory_usage_bytes', 'gauge', 'Current memory usage in bytes, including all memory regardless of when it was accessed');
  for (const r of rows) if (r.usage !== undefined) w.sample('container_memory_usage_bytes', r.labels, r.usage, r.t);
  w.family('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.');
  for (const r of rows) if (r.ws !== undefined) w.sample('container_memory_working_set_bytes', r.labels, r.ws, r.t);
  w.family('container_spec_memory_limit_bytes', 'gauge', 'Memory limit for the container.');
  for (const r of rows) w.sample('container_spec_memory_limit_bytes', r.labels, r.limit);
  return w.text();
}

/** Upstream's buckets for kubelet_pod_start_duration_seconds (pkg/kubelet/metrics). */
export const POD_START_BUCKETS = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];
/** Prometheus' default buckets, which upstream's pod worker histogram uses. */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The kubelet's own metrics. Pod start and pod worker durations are observed by whoever runs pods
 * (observePodStart / observePodWorker); until that is wired, a pod's start is taken on scrape from
 * the runtime: its sandbox's creation to its last container's creation, once per pod.
 */
export class KubeletMetrics {
  readonly podStart = new Histogram(POD_START_BUCKETS);
  private readonly workers = new Map<string, Histogram>();
  private readonly startSeen = new Set<string>();
  /** Set once something calls observePodStart: the scrape-time estimate then stays out. */
  private startsObserved = false;

  constructor(public nodeName: string) {}

  observePodStart(seconds: number): void {
    this.startsObserved = true;
    this.podStart.observe(seconds);
  }

  /** operation: create, update or sync, as upstream. */
  observePodWorker(operation: string, seconds: number): void {
    let h = this.workers.get(operation);
    if (!h) this.workers.set(operation, (h = new Histogram(DEFAULT_BUCKETS)));
    h.observe(seconds);
  }

  async render(runtime: Pick<Runtime, 'listPodSandbox' | 'listContainers'>): Promise<string> {
    const [sandboxes, containers] = await Promise.all([runtime.listPodSandbox(), runtime.listContainers()]);
    const ready = sandboxes.filter((s) => s.state === 'SANDBOX_READY');
    if (!this.startsObserved) {
      const live = new Set<string>();
      for (const s of ready) {
        live.add(s.id);
        if (this.startSeen.has(s.id)) continue;
        const cs = containers.filter((c) => c.podSandboxId === s.id);
        if (!cs.length || cs.some((c) => c.state !== 'CONTAINER_RUNNING')) continue;
        this.startSeen.add(s.id);
        const started = Math.max(...cs.map((c) => c.createdAt));
        this.podStart.observe(Math.max(0, (started - s.createdAt) / 1e9));
      }
      for (const id of this.startSeen) if (!live.has(id)) this.startSeen.delete(id);
    }
    const w = new TextWriter();
    w.family('kubelet_node_name', 'gauge', '[ALPHA] The node\'s name. The count is always 1.').sample('kubelet_node_name', { node: this.nodeName }, 1);
    w.family('kubelet_running_pods', 'gauge', '[ALPHA] Number of pods that have a running pod sandbox').sample('kubelet_running_pods', undefined, ready.length);
    w.family('kubelet_running_containers', 'gauge', '[ALPHA] Number of containers currently running');
    const states: Record<string, number> = { created: 0, exited: 0, running: 0, unknown: 0 };
    for (const c of containers) states[c.state.replace('CONTAINER_', '').toLowerCase()] = (states[c.state.replace('CONTAINER_', '').toLowerCase()] ?? 0) + 1;
    for (const [state, n] of Object.entries(states)) w.sample('kubelet_running_containers', { container_state: state }, n);
    w.family('kubelet_pod_start_duration_seconds', 'histogram', '[ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run');
    w.histogram('kubelet_pod_start_duration_seconds', '', this.podStart.bounds, this.podStart.counts, this.podStart.sum);
    w.family('kubelet_pod_worker_duration_seconds', 'histogram', '[ALPHA] Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync');
    for (const [op, h] of this.workers) w.histogram('kubelet_pod_worker_duration_seconds', `operation="${op}"`, h.bounds, h.counts, h.sum);
    writeProcessMetrics(w);
    return w.text();
  }
}

/**
 * Container stats for a runtime that does not report them (the process runtime): each container's
 * process group read from /proc. The process runtime keeps its processes private, so their pids are
 * read from its container table; a runtime with listContainerStats never comes here.
 */
export async function processContainerStats(runtime: Runtime, groups: ProcessGroupStats): Promise<ContainerStats[]> {
  const table = (runtime as unknown as { containers?: Map<string, { child?: { pid?: number } }> }).containers;
  if (!(table instanceof Map)) return [];
  const running = await runtime.listContainers({ state: 'CONTAINER_RUNNING' });
  const pids = new Map<string, number>();
  for (const c of running) {
    const pid = table.get(c.id)?.child?.pid;
    if (pid) pids.set(c.id, pid);
  }
  const figures = groups.collect([...pids.values()]);
  const out: ContainerStats[] = [];
  for (const c of running) {
    const f = figures.get(pids.get(c.id) ?? -1);
    if (!f) continue;
    out.push({
      id: c.id,
      metadata: c.metadata,
      labels: c.labels,
      annotations: c.annotations,
      timestamp: f.timestampNs,
      cpu: { usageCoreNanoSeconds: f.usageCoreNanoSeconds, ...(f.usageNanoCores !== undefined ? { usageNanoCores: f.usageNanoCores } : {}) },
      memory: { workingSetBytes: f.workingSetBytes, usageBytes: f.workingSetBytes, rssBytes: f.workingSetBytes },
    });
  }
  return out;
}

/** The summary with pods filled in from process stats when the runtime reported none. */
export async function withProcessPods(summary: Summary, runtime: Runtime, groups: ProcessGroupStats): Promise<Summary> {
  if (runtime.listContainerStats || summary.pods.length) return summary;
  const stats = await processContainerStats(runtime, groups);
  if (!stats.length) return summary;
  const containers = await runtime.listContainers();
  return { ...summary, pods: statsSummary({ nodeName: summary.node.nodeName, stats, containers }).pods };
}
