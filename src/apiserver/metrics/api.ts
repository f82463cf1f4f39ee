/**
 * metrics.k8s.io/v1beta1 as metrics-server serves it: NodeMetrics (`nodes`, cluster-scoped) and
 * PodMetrics (`pods`, namespaced), get and list with label and field selectors, from the
 * ResourceScraper's usage. Objects carry the node's or pod's labels, as metrics-server's do, and
 * only pods and nodes the API knows are reported.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from '../registry.js';
import { findByKey } from '../resources.js';
import { StatusError } from '../status.js';
import { send } from '../respond.js';
import { negotiateForm, partialObjectMetadata } from '../table.js';
import { cpuQuantity, goDuration, memoryQuantity } from './quantity.js';
import { extraTarget } from './requests.js';
import type { ResourceScraper, Usage } from './scraper.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const GV = `${METRICS_GROUP}/${METRICS_VERSION}`;
const PREFIX = `/apis/${METRICS_GROUP}`;

// Counted in apiserver_request_total by resource, as if they were registered resources.
extraTarget(METRICS_GROUP, METRICS_VERSION, 'nodes');
extraTarget(METRICS_GROUP, METRICS_VERSION, 'pods');

const RESOURCES = [
  { resource: 'nodes', kind: 'NodeMetrics', namespaced: false },
  { resource: 'pods', kind: 'PodMetrics', namespaced: true },
];

/** The group as an aggregated discovery (apidiscovery.k8s.io v2/v2beta1) item. */
export function metricsApiGroup() {
  return {
    metadata: { name: METRICS_GROUP, creationTimestamp: null },
    versions: [
      {
        version: METRICS_VERSION,
        resources: RESOURCES.map((r) => ({
          resource: r.resource,
          responseKind: { group: METRICS_GROUP, version: METRICS_VERSION, kind: r.kind },
          scope: r.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: '',
          verbs: ['get', 'list'],
        })),
        freshness: 'Current',
      },
    ],
  };
}

/** The group as an APIGroupList entry (legacy discovery). */
export function metricsApiGroupEntry() {
  const v = { groupVersion: GV, version: METRICS_VERSION };
  return { name: METRICS_GROUP, versions: [v], preferredVersion: v };
}

export function metricsApiResourceList() {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: GV,
    resources: RESOURCES.map((r) => ({ name: r.resource, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'list'] })),
  };
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const usageOf = (u: Pick<Usage, 'cpuNanoCores' | 'memoryBytes'>) => ({ cpu: cpuQuantity(u.cpuNanoCores), memory: memoryQuantity(u.memoryBytes) });

function meta(obj: any, now: number) {
  const m: Record<string, unknown> = { name: obj.metadata.name };
  if (obj.metadata.namespace) m.namespace = obj.metadata.namespace;
  m.creationTimestamp = iso(now);
  if (obj.metadata.labels && Object.keys(obj.metadata.labels).length) m.labels = obj.metadata.labels;
  return m;
}

export function nodeMetrics(node: any, u: Usage, now = Date.now()) {
  return { kind: 'NodeMetrics', apiVersion: GV, metadata: meta(node, now), timestamp: iso(u.timestamp), window: goDuration(u.windowMs * 1e6), usage: usageOf(u) };
}

export function podMetrics(pod: any, m: { timestamp: number; windowMs: number; containers: { name: string; usage: Usage }[] }, now = Date.now()) {
  return {
    kind: 'PodMetrics',
    apiVersion: GV,
    metadata: meta(pod, now),
    timestamp: iso(m.timestamp),
    window: goDuration(m.windowMs * 1e6),
    containers: m.containers.map((c) => ({ name: c.name, usage: usageOf(c.usage) })),
  };
}

/**
 * The Table metrics-server answers `kubectl get nodes.metrics.k8s.io` with: Name, one column per
 * resource (cpu, memory; a pod's summed over its containers), Window.
 */
export function metricsTable(items: any[], includeObject: string | undefined) {
  const sum = (m: any, r: 'cpu' | 'memory') => (m.usage ? m.usage[r] : r === 'cpu' ? cpuQuantity(m.containers.reduce((a: number, c: any) => a + parseCpu(c.usage.cpu), 0)) : memoryQuantity(m.containers.reduce((a: number, c: any) => a + parseMemory(c.usage.memory), 0)));
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {},
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the resource', priority: 0 },
      { name: 'cpu', type: 'string', format: 'quantity', description: '', priority: 0 },
      { name: 'memory', type: 'string', format: 'quantity', description: '', priority: 0 },
      { name: 'Window', type: 'string', format: 'duration', description: '', priority: 0 },
    ],
    rows: items.map((m) => ({
      cells: [m.metadata.name, sum(m, 'cpu'), sum(m, 'memory'), m.window],
      object: includeObject === 'None' ? null : includeObject === 'Object' ? m : partialObjectMetadata(m),
    })),
  };
}

const parseCpu = (q: string) => Number(/^(\d+)/.exec(q)?.[1] ?? 0) * ({ n: 1, u: 1e3, m: 1e6, '': 1e9 } as Record<string, number>)[q.replace(/^\d+/, '')];
const parseMemory = (q: string) => Number(/^(\d+)/.exec(q)?.[1] ?? 0) * ({ '': 1, k: 1e3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 } as Record<string, number>)[q.replace(/^\d+/, '')];

/** Whether a path belongs to the metrics API (cheap: called for every non-resource lookup). */
export function isMetricsApiPath(path: string): boolean {
  return path.startsWith(PREFIX) && (path.length === PREFIX.length || path.charCodeAt(PREFIX.length) === 47);
}

/** What the authorizer is asked for a metrics API read (upstream: verb get/list on metrics.k8s.io pods or nodes). */
export type MetricsAccessCheck = (a: { verb: 'get' | 'list'; resource: 'nodes' | 'pods'; namespace?: string; name?: string }) => Promise<void>;

/**
 * Serves /apis/metrics.k8s.io…; false when the path is not one of its documents or resources.
 * `check` authorizes the read as a resource request: the handler only saw a non-resource path.
 */
export async function serveMetricsApi(registry: Registry, scraper: ResourceScraper, req: IncomingMessage, res: ServerResponse, path: string, check?: MetricsAccessCheck): Promise<boolean> {
  if (path === PREFIX) {
    send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...metricsApiGroupEntry() });
    return true;
  }
  if (path === `${PREFIX}/${METRICS_VERSION}`) {
    send(res, 200, metricsApiResourceList());
    return true;
  }
  const rest = path.slice(PREFIX.length + 1 + METRICS_VERSION.length + 1).split('/').map(decodeURIComponent);
  if (!path.startsWith(`${PREFIX}/${METRICS_VERSION}/`)) return false;
  let namespace: string | undefined;
  let resource: string;
  let name: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) [, namespace, resource, name] = rest;
  else [resource, name] = rest;
  const extra = rest[0] === 'namespaces' ? rest.length > 4 : rest.length > 2;
  if (extra || (resource !== 'nodes' && resource !== 'pods') || (resource === 'nodes' && namespace !== undefined) || (resource === 'pods' && name !== undefined && namespace === undefined)) {
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  const q = new URL(req.url ?? '/', 'https://skiff').searchParams;
  const form = negotiateForm(req.headers.accept);
  const includeObject = q.get('includeObject') ?? undefined;
  const render = (obj: any) => (form === 'table' ? metricsTable([obj], includeObject) : form === 'metadata' ? partialObjectMetadata(obj) : obj);
  if (q.get('watch') === 'true' || q.get('watch') === '1') throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  await check?.({ verb: name !== undefined ? 'get' : 'list', resource, namespace, name });
  const info = findByKey(resource)!;
  const snap = await scraper.get();
  const now = Date.now();
  if (name !== undefined) {
    const key = resource === 'pods' ? `${namespace}/${name}` : name;
    const notFound = () => new StatusError(404, 'NotFound', `${resource === 'pods' ? 'podmetrics' : 'nodemetrics'}.${METRICS_GROUP} "${key}" not found`, { name, group: METRICS_GROUP, kind: resource });
    let obj: any;
    try {
      obj = registry.output(info, await registry.get(info, namespace, name));
    } catch (e) {
      if (e instanceof StatusError && e.code === 404) throw notFound();
      throw e;
    }
    if (resource === 'nodes') {
      const u = snap.nodes.get(name);
      if (!u) throw notFound();
      send(res, 200, render(nodeMetrics(obj, u, now)));
    } else {
      const m = snap.pods.get(key);
      if (!m) throw notFound();
      send(res, 200, render(podMetrics(obj, m, now)));
    }
    return true;
  }
  const list = await registry.list(info, namespace, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
  const items: unknown[] = [];
  for (const c of list.items) {
    const obj = registry.output(info, c);
    if (resource === 'nodes') {
      const u = snap.nodes.get(obj.metadata.name);
      if (u) items.push(nodeMetrics(obj, u, now));
    } else {
      const m = snap.pods.get(`${obj.metadata.namespace}/${obj.metadata.name}`);
      if (m) items.push(podMetrics(obj, m, now));
    }
  }
  if (form === 'table') send(res, 200, metricsTable(items, includeObject));
  else if (form === 'metadata') send(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: {}, items: items.map(partialObjectMetadata) });
  else send(res, 200, { kind: resource === 'nodes' ? 'NodeMetricsList' : 'PodMetricsList', apiVersion: GV, metadata: {}, items });
  return true;
}
