/**
 * The API server's observability: GET /metrics (requests, storage, process) and the metrics.k8s.io
 * API. One ApiServerMetrics per server, found from the registry the handler context carries; its
 * metrics live in a prom-client Registry of its own (not prom-client's global one: `skiff up` runs
 * several components in one process).
 */
import { Gauge, Registry as PromRegistry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { Registry } from '../registry.js';
import { allResources, findByKey } from '../resources.js';
import type { KubeletClientTLS } from '../../kubelet/apiproxy.js';
import { RequestMetrics } from './requests.js';
import { ResourceScraper } from './scraper.js';
import { StorageMetrics, resourceLabel } from './storage.js';

export class ApiServerMetrics {
  readonly prom = new PromRegistry();
  readonly requests = new RequestMetrics(this.prom);
  readonly scraper: ResourceScraper;

  constructor(
    private readonly registry: Registry,
    kubeletClient: KubeletClientTLS | undefined,
    /** Storage latency, when the server's backend was wrapped with StorageMetrics.instrument. */
    storage?: StorageMetrics,
  ) {
    const cache = registry.cache;
    new Gauge({
      name: 'apiserver_storage_objects',
      help: '[STABLE] Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.',
      labelNames: ['resource'],
      registers: [this.prom],
      collect() {
        for (const r of allResources()) {
          if (r.virtual || r.storageKey !== r.key) continue;
          this.set({ resource: resourceLabel(r.storageKey) }, cache.count(r.storageKey));
        }
      },
    });
    if (storage) for (const m of storage.registry.getMetricsAsArray()) this.prom.registerMetric(m as unknown as Metric);
    collectDefaultMetrics({ register: this.prom });
    this.scraper = new ResourceScraper({
      client: kubeletClient,
      nodes: async () => {
        const info = findByKey('nodes')!;
        const list = await registry.list(info, undefined, {});
        return list.items.map((c) => registry.output(info, c)).filter((n) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
      },
    });
  }

  /** The /metrics page. */
  metrics(): Promise<string> {
    return this.prom.metrics();
  }
}

const byRegistry = new WeakMap<Registry, ApiServerMetrics>();

export function attachMetrics(registry: Registry, kubeletClient: KubeletClientTLS | undefined, storage?: StorageMetrics): ApiServerMetrics {
  const m = new ApiServerMetrics(registry, kubeletClient, storage);
  byRegistry.set(registry, m);
  return m;
}

export function metricsOf(registry: Registry): ApiServerMetrics | undefined {
  return byRegistry.get(registry);
}
