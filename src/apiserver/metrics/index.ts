/**
 * The API server's observability: GET /metrics (requests, storage, process) and the metrics.k8s.io
 * API. One ApiServerMetrics per server, found from the registry the handler context carries.
 */
import type { Registry } from '../registry.js';
import { allResources, findByKey } from '../resources.js';
import type { KubeletClientTLS } from '../../kubelet/apiproxy.js';
import { TextWriter, writeProcessMetrics } from './prom.js';
import { RequestMetrics } from './requests.js';
import { ResourceScraper } from './scraper.js';
import { StorageMetrics, resourceLabel } from './storage.js';

export class ApiServerMetrics {
  readonly requests = new RequestMetrics();
  readonly scraper: ResourceScraper;
  constructor(
    private readonly registry: Registry,
    kubeletClient: KubeletClientTLS | undefined,
    /** Storage latency, when the server's backend was wrapped with StorageMetrics.instrument. */
    private readonly storage?: StorageMetrics,
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

  render(): string {
    const w = new TextWriter();
    this.requests.render(w);
    w.family('apiserver_storage_objects', 'gauge', '[STABLE] Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.');
    for (const r of allResources()) {
      if (r.virtual || r.storageKey !== r.key) continue;
      w.sample('apiserver_storage_objects', { resource: resourceLabel(r.storageKey) }, this.registry.cache.count(r.storageKey));
    }
    this.storage?.render(w);
    writeProcessMetrics(w);
    return w.text();
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
