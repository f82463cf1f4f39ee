/**
 * The API server's observability: GET /metrics (requests, storage, process) and the metrics.k8s.io
 * API. One ApiServerMetrics per server, found from the registry the handler context carries.
 */
import type { Registry } from '../registry.js';
import { allResources, findByKey } from '../resources.js';
import type { KubeletClientTLS } from '../../kubelet/apiproxy.js';
import { Histogram, TextWriter, writeProcessMetrics } from './prom.js';
import { RequestMetrics } from './requests.js';
import { ResourceScraper } from './scraper.js';

/** Upstream's buckets for etcd_request_duration_seconds. */
export const STORAGE_DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

export class ApiServerMetrics {
  readonly requests = new RequestMetrics();
  readonly scraper: ResourceScraper;
  /** Storage latency by `operation` and `type` (the storage prefix), filled by instrumentBackend. */
  readonly storage = new Map<string, Histogram>();

  constructor(
    private readonly registry: Registry,
    kubeletClient: KubeletClientTLS | undefined,
  ) {
    this.scraper = new ResourceScraper({
      client: kubeletClient,
      nodes: async () => {
        const info = findByKey('nodes')!;
        const list = await registry.list(info, undefined, {});
        return list.items.map((c) => registry.output(info, c)).filter((n) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
      },
    });
  }

  storageLatency(operation: string, type: string): Histogram {
    const k = `operation="${operation}",type="${type}"`;
    let h = this.storage.get(k);
    if (!h) this.storage.set(k, (h = new Histogram(STORAGE_DURATION_BUCKETS)));
    return h;
  }

  render(): string {
    const w = new TextWriter();
    this.requests.render(w);
    w.family('apiserver_storage_objects', 'gauge', '[STABLE] Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.');
    for (const r of allResources()) {
      if (r.virtual || r.storageKey !== r.key) continue;
      w.sample('apiserver_storage_objects', { resource: r.group ? `${r.resource}.${r.group}` : r.resource }, this.registry.cache.count(r.storageKey));
    }
    w.family('etcd_request_duration_seconds', 'histogram', '[ALPHA] Etcd request latency in seconds for each operation and object type.');
    for (const [labels, h] of this.storage) w.histogram('etcd_request_duration_seconds', labels, h.bounds, h.counts, h.sum);
    writeProcessMetrics(w);
    return w.text();
  }
}

const byRegistry = new WeakMap<Registry, ApiServerMetrics>();

export function attachMetrics(registry: Registry, kubeletClient: KubeletClientTLS | undefined): ApiServerMetrics {
  const m = new ApiServerMetrics(registry, kubeletClient);
  byRegistry.set(registry, m);
  return m;
}

export function metricsOf(registry: Registry): ApiServerMetrics | undefined {
  return byRegistry.get(registry);
}
