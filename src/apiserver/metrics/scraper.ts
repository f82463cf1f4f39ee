/**
 * The resource metrics pipeline metrics-server runs, inside the API server: scrape each Ready
 * node's kubelet `/metrics/resource` (with the API server's kubelet client credentials, as the
 * nodes/proxy subresource does), keep the last two samples per node, and turn the cumulative CPU
 * counters into rates over the window between them. Scrapes happen on demand, at most once per
 * resolution (metrics-server: every 15 s); with no recent earlier sample, the first request takes
 * two samples a moment apart so `kubectl top` answers at once.
 */
import https from 'node:https';
import { kubeletAddress, type KubeletClientTLS } from '../../kubelet/apiproxy.js';
import { parseSamples } from '../../util/prometheus.js';

/** A cumulative CPU reading and a memory reading at a time (ms since the epoch). */
export interface Point {
  cpuSeconds?: number;
  cpuAt?: number;
  memoryBytes?: number;
  memoryAt?: number;
  startTime?: number;
}

/** One scrape of one node's /metrics/resource. */
export interface NodeSample {
  node: Point;
  /** `namespace/pod` → container name → point. */
  pods: Map<string, Map<string, Point>>;
}

/** Parses a kubelet's /metrics/resource page into points (samples without a timestamp take `now`). */
export function parseResourceMetrics(text: string, now = Date.now()): NodeSample {
  const { samples } = parseSamples(text);
  const node: Point = {};
  const pods = new Map<string, Map<string, Point>>();
  const point = (l: Record<string, string>) => {
    const k = `${l.namespace}/${l.pod}`;
    let cs = pods.get(k);
    if (!cs) pods.set(k, (cs = new Map()));
    let p = cs.get(l.container);
    if (!p) cs.set(l.container, (p = {}));
    return p;
  };
  for (const s of samples) {
    const t = s.timestampMs ?? now;
    switch (s.name) {
      case 'node_cpu_usage_seconds_total':
        node.cpuSeconds = s.value;
        node.cpuAt = t;
        break;
      case 'node_memory_working_set_bytes':
        node.memoryBytes = s.value;
        node.memoryAt = t;
        break;
      case 'container_cpu_usage_seconds_total': {
        const p = point(s.labels);
        p.cpuSeconds = s.value;
        p.cpuAt = t;
        break;
      }
      case 'container_memory_working_set_bytes': {
        const p = point(s.labels);
        p.memoryBytes = s.value;
        p.memoryAt = t;
        break;
      }
      case 'container_start_time_seconds':
        point(s.labels).startTime = s.value * 1000;
        break;
    }
  }
  return { node, pods };
}

/** CPU (nanocores) and memory (bytes) with the time of the latest reading and the window of the rate (ms). */
export interface Usage {
  cpuNanoCores: number;
  memoryBytes: number;
  timestamp: number;
  windowMs: number;
}

/** Usage from two points of the same series; undefined when the rate cannot be had (no earlier point, a reset, a restart). */
export function usageBetween(prev: Point | undefined, cur: Point): Usage | undefined {
  if (!prev || cur.cpuSeconds === undefined || prev.cpuSeconds === undefined || cur.cpuAt === undefined || prev.cpuAt === undefined) return undefined;
  if (cur.memoryBytes === undefined) return undefined;
  const dt = cur.cpuAt - prev.cpuAt;
  if (dt <= 0 || cur.cpuSeconds < prev.cpuSeconds) return undefined;
  // A container that restarted between the samples: its counter began again (metrics-server drops it too).
  if (cur.startTime !== undefined && prev.startTime !== undefined && cur.startTime !== prev.startTime) return undefined;
  return { cpuNanoCores: Math.round(((cur.cpuSeconds - prev.cpuSeconds) / (dt / 1000)) * 1e9), memoryBytes: cur.memoryBytes, timestamp: cur.cpuAt, windowMs: dt };
}

export interface ScraperOptions {
  /** The Ready nodes (Node objects). */
  nodes(): Promise<any[]>;
  client?: KubeletClientTLS;
  /** Scrape again when the latest scrape is older than this (ms). */
  resolutionMs?: number;
  /** An earlier sample older than this is too old for a rate: take a fresh pair (ms). */
  maxWindowMs?: number;
  /** Between the two samples of a fresh pair (ms). */
  pairGapMs?: number;
  timeoutMs?: number;
  fetch?: (node: any) => Promise<string>;
  now?: () => number;
}

interface NodeState {
  prev?: { at: number; sample: NodeSample };
  cur?: { at: number; sample: NodeSample };
}

/** The usage of nodes and pods, computed from the last two scrapes of each node. */
export interface Snapshot {
  nodes: Map<string, Usage>;
  /** `namespace/pod` → containers' usage (only pods whose every container has a rate). */
  pods: Map<string, { timestamp: number; windowMs: number; containers: { name: string; usage: Usage }[] }>;
}

export class ResourceScraper {
  private readonly state = new Map<string, NodeState>();
  private lastScrape = 0;
  private inflight?: Promise<Snapshot>;
  private snapshot?: Snapshot;
  private readonly now: () => number;

  constructor(private readonly opts: ScraperOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The latest usage, scraping first when it is older than the resolution. */
  async get(): Promise<Snapshot> {
    const res = this.opts.resolutionMs ?? 15_000;
    if (this.snapshot && this.now() - this.lastScrape < res) return this.snapshot;
    return (this.inflight ??= this.refresh().finally(() => (this.inflight = undefined)));
  }

  private async refresh(): Promise<Snapshot> {
    const nodes = await this.opts.nodes();
    const maxWindow = this.opts.maxWindowMs ?? 90_000;
    await this.scrapeAll(nodes);
    // Nodes seen for the first time (or long ago), or with pods new since the last scrape, need a
    // second sample for a rate: taken now, so a new pod shows in `kubectl top` at once.
    const fresh = nodes.filter((n) => {
      const st = this.state.get(n.metadata.name);
      if (!st?.cur) return false;
      if (!st.prev || st.cur.at - st.prev.at > maxWindow) return true;
      for (const pod of st.cur.sample.pods.keys()) if (!st.prev.sample.pods.has(pod)) return true;
      return false;
    });
    if (fresh.length) {
      await new Promise((r) => setTimeout(r, this.opts.pairGapMs ?? 1000));
      await this.scrapeAll(fresh);
    }
    const names = new Set(nodes.map((n) => n.metadata.name));
    for (const k of this.state.keys()) if (!names.has(k)) this.state.delete(k);
    this.lastScrape = this.now();
    return (this.snapshot = this.compute());
  }

  private async scrapeAll(nodes: any[]): Promise<void> {
    await Promise.all(
      nodes.map(async (n) => {
        const name = n.metadata.name as string;
        try {
          const text = await (this.opts.fetch ?? ((node: any) => fetchKubelet(node, '/metrics/resource', this.opts.client, this.opts.timeoutMs ?? 5000)))(n);
          const at = this.now();
          const sample = parseResourceMetrics(text, at);
          const st = this.state.get(name) ?? {};
          this.state.set(name, { prev: st.cur, cur: { at, sample } });
        } catch {
          // An unreachable kubelet: its node and pods have no metrics until it answers again (as metrics-server).
        }
      }),
    );
  }

  private compute(): Snapshot {
    const out: Snapshot = { nodes: new Map(), pods: new Map() };
    for (const [name, st] of this.state) {
      if (!st.cur) continue;
      const nu = usageBetween(st.prev?.sample.node, st.cur.sample.node);
      if (nu) out.nodes.set(name, nu);
      for (const [pod, containers] of st.cur.sample.pods) {
        const before = st.prev?.sample.pods.get(pod);
        const cs: { name: string; usage: Usage }[] = [];
        let complete = containers.size > 0;
        for (const [cname, p] of containers) {
          const u = usageBetween(before?.get(cname), p);
          if (!u) {
            complete = false;
            break;
          }
          cs.push({ name: cname, usage: u });
        }
        if (!complete) continue;
        cs.sort((a, b) => a.name.localeCompare(b.name));
        out.pods.set(pod, { timestamp: Math.max(...cs.map((c) => c.usage.timestamp)), windowMs: Math.max(...cs.map((c) => c.usage.windowMs)), containers: cs });
      }
    }
    return out;
  }
}

/** GET a kubelet path with the API server's kubelet client identity. */
export function fetchKubelet(node: any, path: string, client: KubeletClientTLS | undefined, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!client) return reject(new Error('no kubelet client credentials'));
    let addr: { host: string; port: number };
    try {
      addr = kubeletAddress(node);
    } catch (e) {
      return reject(e);
    }
    const req = https.get({ host: addr.host, port: addr.port, path, cert: client.certPem, key: client.keyPem, rejectUnauthorized: false, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`kubelet ${node.metadata?.name}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
