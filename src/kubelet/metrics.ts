/**
 * The kubelet's Prometheus endpoints, with upstream's metric names and labels:
 *   /metrics/resource  the resource metrics metrics-server scrapes (pkg/kubelet/metrics/collectors/resource_metrics.go)
 *   /metrics/cadvisor  a subset of cAdvisor's container_* series
 *   /metrics           the kubelet's own: running pods/containers, pod start and worker latencies, process_*
 * /metrics is prom-client's (a Registry per kubelet); the other two are rendered from the stats
 * summary (and the runtime's container list) on scrape, by a small writer (TimestampedPage).
 */
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Runtime } from '../runtime/cri.js';
import type { Summary } from '../runtime/containerd/summary.js';

type Labels = Readonly<Record<string, string>>;

/**
 * /metrics/resource and /metrics/cadvisor put a timestamp on every sample: when the figure was
 * read, in ms, as upstream's kubelet (NewLazyMetricWithTimestamp) and cAdvisor write them, and
 * metrics-server (here: scraper.ts) rates CPU between those times, not scrape times. prom-client
 * has no sample timestamps, and patching them into its output would mean matching its lines back to
 * samples; these pages have no state to keep either, so they are written here directly.
 */
class TimestampedPage {
  private readonly out: string[] = [];

  family(name: string, type: 'counter' | 'gauge', help: string): this {
    this.out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: Labels | undefined, value: number, timestampMs?: number): this {
    let l = '';
    for (const k in labels) l += `${l ? ',' : ''}${k}="${labels[k].replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
    this.out.push(`${name}${l ? `{${l}}` : ''} ${value}${timestampMs !== undefined ? ` ${Math.round(timestampMs)}` : ''}`);
    return this;
  }

  text(): string {
    return this.out.length ? this.out.join('\n') + '\n' : '';
  }
}

const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : undefined);

/** GET /metrics/resource from a stats summary. `error` says the summary could not be had (resource_scrape_error 1). */
export function renderResourceMetrics(summary: Summary | undefined, error = false): string {
  const w = new TimestampedPage();
  const pods = summary?.pods ?? [];
  const node = summary?.node;
  const ctr = (p: Summary['pods'][number], name: string) => ({ container: name, namespace: p.podRef.namespace, pod: p.podRef.name });
  const pod = (p: Summary['pods'][number]) => ({ namespace: p.podRef.namespace, pod: p.podRef.name });

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
  const w = new TimestampedPage();
  const byKey = new Map(i.containers.map((c) => [`${c.podUid}/${c.name}`, c]));
  type Row = { labels: Labels; cpu?: number; ws?: number; usage?: number; limit: number; t?: number };
  const rows: Row[] = [];
  for (const p of i.summary.pods) {
    for (const c of p.containers) {
      const rc = byKey.get(`${p.podRef.uid}/${c.name}`);
      const id = `/kubepods/pod${p.podRef.uid}/${rc?.id ?? ''}`;
      rows.push({
        labels: { container: c.name, id, image: rc?.image ?? '', name: rc?.id ?? '', namespace: p.podRef.namespace, pod: p.podRef.name },
        cpu: c.cpu?.usageCoreNanoSeconds,
        ws: c.memory?.workingSetBytes,
        usage: c.memory?.usageBytes ?? c.memory?.workingSetBytes,
        limit: i.memoryLimits?.get(`${p.podRef.uid}/${c.name}`) ?? 0,
        t: ms(c.cpu?.time ?? c.memory?.time),
      });
    }
  }
  w.family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed in seconds.');
  for (const r of rows) if (r.cpu !== undefined) w.sample('container_cpu_usage_seconds_total', { ...r.labels, cpu: 'total' }, r.cpu / 1e9, r.t);
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

type RuntimeLists = Pick<Runtime, 'listPodSandbox' | 'listContainers'>;

/**
 * The kubelet's own metrics, in a prom-client Registry of its own (a process may run an API server
 * and kubelets). Pod start and pod worker durations are observed by the agent (observePodStart /
 * observePodWorker); running pods and containers are read from the runtime on scrape.
 */
export class KubeletMetrics {
  readonly registry = new Registry();
  private readonly podStart: Histogram;
  private readonly podWorker: Histogram<'operation'>;
  /** The runtime's lists, read once per scrape for the gauges' collect(). */
  private lists: { sandboxes: Awaited<ReturnType<RuntimeLists['listPodSandbox']>>; containers: Awaited<ReturnType<RuntimeLists['listContainers']>> } = { sandboxes: [], containers: [] };

  constructor(public nodeName: string) {
    const self = this;
    const registers = [this.registry];
    new Gauge({
      name: 'kubelet_node_name',
      help: "[ALPHA] The node's name. The count is always 1.",
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        this.set({ node: self.nodeName }, 1);
      },
    });
    new Gauge({
      name: 'kubelet_running_pods',
      help: '[ALPHA] Number of pods that have a running pod sandbox',
      registers,
      collect() {
        this.set(self.lists.sandboxes.filter((s) => s.state === 'SANDBOX_READY').length);
      },
    });
    new Gauge({
      name: 'kubelet_running_containers',
      help: '[ALPHA] Number of containers currently running',
      labelNames: ['container_state'],
      registers,
      collect() {
        const states: Record<string, number> = { created: 0, exited: 0, running: 0, unknown: 0 };
        for (const c of self.lists.containers) {
          const st = c.state.replace('CONTAINER_', '').toLowerCase();
          states[st] = (states[st] ?? 0) + 1;
        }
        for (const [container_state, n] of Object.entries(states)) this.set({ container_state }, n);
      },
    });
    this.podStart = new Histogram({
      name: 'kubelet_pod_start_duration_seconds',
      help: '[ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
      buckets: POD_START_BUCKETS,
      registers,
    });
    this.podWorker = new Histogram({
      name: 'kubelet_pod_worker_duration_seconds',
      help: '[ALPHA] Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync',
      labelNames: ['operation'],
      buckets: DEFAULT_BUCKETS,
      registers,
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** From the kubelet first seeing a pod to all its containers running (once per pod). */
  observePodStart(seconds: number): void {
    this.podStart.observe(seconds);
  }

  /** operation: create, update or sync, as upstream. */
  observePodWorker(operation: string, seconds: number): void {
    this.podWorker.observe({ operation }, seconds);
  }

  async render(runtime: RuntimeLists): Promise<string> {
    const [sandboxes, containers] = await Promise.all([runtime.listPodSandbox(), runtime.listContainers()]);
    this.lists = { sandboxes, containers };
    return this.registry.metrics();
  }
}
