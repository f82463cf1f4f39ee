/**
 * The EndpointSlice reconciler as a pure function (upstream's endpointslice reconciler): from a
 * Service, the pods it selects and the slices it owns, what to create, update and delete.
 *
 * Endpoints are grouped by their resolved ports (a named targetPort may map to different numbers
 * on different pods); each group is packed into slices of at most 100 endpoints. Existing slices
 * are kept and edited in place where possible so a change touches as few slices as it can, and a
 * Service without any endpoint keeps one empty "placeholder" slice, as upstream.
 */
import { newControllerRef } from '../controller.js';
import {
  CONTROLLER_NAME,
  MANAGED_BY_LABEL,
  MAX_ENDPOINTS_PER_SLICE,
  SERVICE_NAME_LABEL,
  endpointConditions,
  findPort,
  podHostname,
  serviceLabels,
  shouldPodBeInEndpoints,
} from './endpoints.js';

export interface SlicePlan {
  create: any[];
  update: any[];
  delete: any[];
}

export interface DesiredEndpoint {
  key: string;
  endpoint: any;
  ports: any[];
}

/** The endpoint (and its resolved ports) each selected pod contributes. */
export function desiredEndpoints(svc: any, pods: any[], nodes: (name: string) => any | undefined): DesiredEndpoint[] {
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  const preferClose = preferCloseHints(svc);
  const out: DesiredEndpoint[] = [];
  const sorted = [...pods].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const pod of sorted) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ip = ipv4Of(pod);
    if (!ip) continue;
    const ports: any[] = [];
    let missing = false;
    for (const sp of svc.spec?.ports ?? []) {
      const port = findPort(pod, sp);
      if (port === undefined) {
        missing = true;
        continue;
      }
      const p: any = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
      if (sp.appProtocol) p.appProtocol = sp.appProtocol;
      ports.push(p);
    }
    // Upstream drops a pod whose named port cannot be resolved for any port only if no port resolves.
    if (missing && !ports.length && (svc.spec?.ports ?? []).length) continue;
    const ep: any = { addresses: [ip], conditions: endpointConditions(pod, publishNotReady) };
    const hn = podHostname(pod, svc);
    if (hn) ep.hostname = hn;
    ep.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
    if (pod.spec?.nodeName) {
      ep.nodeName = pod.spec.nodeName;
      const zone = nodes(pod.spec.nodeName)?.metadata?.labels?.['topology.kubernetes.io/zone'];
      if (zone) ep.zone = zone;
      if (zone && preferClose) ep.hints = { forZones: [{ name: zone }] };
    }
    out.push({ key: ip, endpoint: ep, ports });
  }
  return out;
}

/**
 * spec.trafficDistribution PreferClose (on by default since 1.31): each endpoint with a zone is
 * hinted for its own zone (upstream's trafficdist preferCloseHeuristic), so zone-aware proxies keep
 * traffic in the zone. The topology-mode annotation, when set, takes over from it upstream; its
 * CPU-proportional hints are not computed here.
 */
function preferCloseHints(svc: any): boolean {
  const mode = svc.metadata?.annotations?.['service.kubernetes.io/topology-mode'] ?? svc.metadata?.annotations?.['service.kubernetes.io/topology-aware-hints'];
  if (mode && mode !== 'Disabled' && mode !== 'disabled') return false;
  return svc.spec?.trafficDistribution === 'PreferClose';
}

function ipv4Of(pod: any): string | undefined {
  const ips: string[] = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p: any) => p.ip)].filter(Boolean);
  // Loopback addresses are refused by EndpointSlice validation: such a pod cannot be published.
  return ips.find((ip) => !ip.includes(':') && !ip.startsWith('127.'));
}

const portsKey = (ports: any[] | undefined | null) => JSON.stringify((ports ?? []).map((p) => [p.name ?? '', p.port, p.protocol ?? 'TCP', p.appProtocol ?? '']));
const epKey = (ep: any) => ep.addresses?.[0] ?? '';
/** Semantic equality of API objects: key order does not matter. */
export function same(a: unknown, b: unknown): boolean {
  return stable(a) === stable(b);
}

function stable(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stable(o[k])}`).join(',')}}`;
}

/** Metadata every slice of `svc` carries (labels, owner); name prefix as upstream's generateName. */
export function sliceMeta(svc: any): any {
  const prefix = svc.metadata.name.length > 57 ? svc.metadata.name.slice(0, 57) : svc.metadata.name;
  return {
    generateName: `${prefix}-`,
    namespace: svc.metadata.namespace,
    labels: { ...serviceLabels(svc), [SERVICE_NAME_LABEL]: svc.metadata.name, [MANAGED_BY_LABEL]: CONTROLLER_NAME },
    ownerReferences: [newControllerRef(svc, { apiVersion: 'v1', kind: 'Service' })],
  };
}

function newSlice(meta: any, ports: any[] | null, endpoints: any[], triggerTime?: string): any {
  const metadata = structuredClone(meta);
  if (triggerTime) metadata.annotations = { 'endpoints.kubernetes.io/last-change-trigger-time': triggerTime };
  const s: any = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata, addressType: 'IPv4', endpoints };
  if (ports) s.ports = ports;
  return s;
}

function isPlaceholder(s: any): boolean {
  return !(s.endpoints ?? []).length && !(s.ports ?? []).length;
}

/**
 * Plans the changes that make `existing` (the slices this controller owns for `svc`) carry
 * exactly the desired endpoints. Returned objects are fresh copies, safe to send.
 */
export function planSlices(svc: any, desired: DesiredEndpoint[], existing: any[], triggerTime?: string, o: { meta?: any; placeholder?: boolean } = {}): SlicePlan {
  // The mirroring controller plans with its own metadata (labels, owner: the Endpoints) and no placeholder.
  const meta = o.meta ?? sliceMeta(svc);
  const groups = new Map<string, { ports: any[]; eps: Map<string, any> }>();
  for (const d of desired) {
    const k = portsKey(d.ports);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { ports: d.ports, eps: new Map() }));
    g.eps.set(d.key, d.endpoint);
  }
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const byName = [...existing].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  const touched = new Set<any>();
  const work: { orig: any; eps: any[]; ports: any[] }[] = [];
  for (const s of byName) {
    const g = groups.get(portsKey(s.ports));
    if (!g || s.addressType !== 'IPv4') {
      plan.delete.push(s);
      continue;
    }
    const eps: any[] = [];
    for (const ep of s.endpoints ?? []) {
      const want = g.eps.get(epKey(ep));
      if (!want || eps.length >= MAX_ENDPOINTS_PER_SLICE) continue;
      eps.push(want);
      g.eps.delete(epKey(ep));
    }
    if (!eps.length) {
      plan.delete.push(s);
      continue;
    }
    work.push({ orig: s, eps, ports: g.ports });
  }
  // New endpoints fill slices with room (those changing anyway first), then new slices.
  for (const [k, g] of groups) {
    if (!g.eps.size) continue;
    const rest = [...g.eps.values()];
    const candidates = work.filter((w) => portsKey(w.ports) === k).sort((a, b) => Number(sliceChanged(b, meta)) - Number(sliceChanged(a, meta)));
    for (const w of candidates) {
      while (rest.length && w.eps.length < MAX_ENDPOINTS_PER_SLICE) w.eps.push(rest.shift());
    }
    while (rest.length) plan.create.push(newSlice(meta, g.ports, rest.splice(0, MAX_ENDPOINTS_PER_SLICE), triggerTime));
  }
  for (const w of work) {
    if (!sliceChanged(w, meta)) continue;
    touched.add(w.orig);
    const s = structuredClone(w.orig);
    s.metadata.labels = { ...meta.labels };
    s.metadata.ownerReferences = meta.ownerReferences;
    if (triggerTime) s.metadata.annotations = { ...(s.metadata.annotations ?? {}), 'endpoints.kubernetes.io/last-change-trigger-time': triggerTime };
    s.endpoints = w.eps;
    s.ports = w.ports;
    plan.update.push(s);
  }
  // Nothing left: keep (or make) exactly one placeholder slice.
  if (!plan.create.length && !work.length && o.placeholder !== false) {
    const keep = plan.delete.find((s) => isPlaceholder(s) && same(s.metadata.labels ?? {}, meta.labels));
    if (keep) plan.delete = plan.delete.filter((s) => s !== keep);
    else plan.create.push(newSlice(meta, null, []));
  }
  return plan;
}

function sliceChanged(w: { orig: any; eps: any[]; ports: any[] }, meta: any): boolean {
  return !same(w.orig.endpoints ?? [], w.eps) || !same(w.orig.ports ?? [], w.ports) || !same(w.orig.metadata.labels ?? {}, meta.labels) || !same(w.orig.metadata.ownerReferences ?? [], meta.ownerReferences);
}
