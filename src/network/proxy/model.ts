/**
 * What the service proxy programs, as a pure function of Services and EndpointSlices (kube-proxy's
 * ServicePortMap / EndpointsMap): one entry per Service port with its frontends (ClusterIP,
 * NodePort), its balancing and the endpoints traffic may go to.
 */
export interface ProxyEndpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
}

export interface ServicePort {
  /** `namespace/name:portName`, kube-proxy's ServicePortName. */
  id: string;
  namespace: string;
  name: string;
  portName: string;
  clusterIP: string;
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  nodePort?: number;
  /** ClientIP affinity timeout in seconds; undefined for no affinity. */
  affinitySeconds?: number;
  /** spec.externalIPs and status.loadBalancer.ingress IPs, proxied like the ClusterIP (absent when none). */
  externalIPs?: string[];
  /** Endpoints traffic goes to (see usableEndpoints). */
  endpoints: ProxyEndpoint[];
}

/** Services that need no proxying: headless, ExternalName, or without an IP yet. */
function proxied(svc: any): boolean {
  const ip = svc.spec?.clusterIP;
  return svc.spec?.type !== 'ExternalName' && !!ip && ip !== 'None';
}

/**
 * kube-proxy's endpoint choice: ready endpoints; when none is ready, serving-and-terminating ones
 * (so connections drain gracefully during a rollout) — never not-serving ones.
 */
export function usableEndpoints(all: ProxyEndpoint[]): ProxyEndpoint[] {
  const ready = all.filter((e) => e.ready);
  if (ready.length) return ready;
  return all.filter((e) => e.serving && e.terminating);
}

/** The Service (`namespace/name`) an EndpointSlice belongs to, if any. */
export function sliceServiceKey(slice: any): string | undefined {
  const svc = slice?.metadata?.labels?.['kubernetes.io/service-name'];
  return svc ? `${slice.metadata.namespace}/${svc}` : undefined;
}

/** The Service ports of one Service from its EndpointSlices (none when it is not proxied). */
export function servicePortsOf(svc: any, slices: any[]): ServicePort[] {
  if (!svc || !proxied(svc)) return [];
  const ns = svc.metadata.namespace;
  const name = svc.metadata.name;
  const sl = slices.filter((s) => s && s.addressType === 'IPv4');
  const affinity = svc.spec?.sessionAffinity === 'ClientIP' ? svc.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 : undefined;
  // kube-proxy also answers on a Service's external IPs and load-balancer IPs (IPv4 here).
  const lbIPs = svc.spec?.type === 'LoadBalancer' ? (svc.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip) : [];
  const external = [...new Set<string>([...(svc.spec?.externalIPs ?? []), ...lbIPs].filter((ip: any) => typeof ip === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(ip)))].sort();
  const out: ServicePort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const portName = sp.name ?? '';
    const protocol = sp.protocol ?? 'TCP';
    const seen = new Set<string>();
    const eps: ProxyEndpoint[] = [];
    for (const s of sl) {
      const p = (s.ports ?? []).find((x: any) => (x.name ?? '') === portName && (x.protocol ?? 'TCP') === protocol);
      if (!p || !p.port) continue;
      for (const e of s.endpoints ?? []) {
        const ip = e.addresses?.[0];
        const k = `${ip}:${p.port}`;
        if (!ip || seen.has(k)) continue;
        seen.add(k);
        const c = e.conditions ?? {};
        // Unset ready means ready, as the API documents.
        eps.push({ ip, port: p.port, ready: c.ready !== false, serving: c.serving ?? c.ready !== false, terminating: !!c.terminating, nodeName: e.nodeName });
      }
    }
    eps.sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
    out.push({
      id: `${ns}/${name}:${portName}`,
      namespace: ns,
      name,
      portName,
      clusterIP: svc.spec.clusterIP,
      port: sp.port,
      protocol,
      nodePort: svc.spec.type === 'NodePort' || svc.spec.type === 'LoadBalancer' ? sp.nodePort : undefined,
      affinitySeconds: affinity,
      ...(external.length ? { externalIPs: external } : {}),
      endpoints: usableEndpoints(eps),
    });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

export function buildServicePorts(services: any[], slices: any[]): ServicePort[] {
  const bySvc = new Map<string, any[]>();
  for (const s of slices) {
    const k = sliceServiceKey(s);
    if (!k) continue;
    let l = bySvc.get(k);
    if (!l) bySvc.set(k, (l = []));
    l.push(s);
  }
  const out = services.flatMap((svc) => servicePortsOf(svc, bySvc.get(`${svc.metadata?.namespace}/${svc.metadata?.name}`) ?? []));
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** `namespace/name` of the Service a Service port belongs to. */
export const serviceKeyOf = (sp: ServicePort) => `${sp.namespace}/${sp.name}`;

/**
 * Which Services changed since the last `take()` (kube-proxy's ServiceChangeTracker and
 * EndpointsChangeTracker, reduced to keys): informer handlers report objects, the sync reads the
 * current state of just those Services. It also indexes EndpointSlices by Service, so a sync
 * finds a Service's slices without scanning all of them.
 */
export class ServiceChangeTracker {
  private readonly sliceOwner = new Map<string, string>();
  private readonly slicesBySvc = new Map<string, Set<string>>();
  private dirty = new Set<string>();

  service(obj: any): void {
    this.dirty.add(`${obj.metadata.namespace}/${obj.metadata.name}`);
  }

  /** A slice added (old undefined), changed, or deleted (next undefined). */
  slice(old: any | undefined, next: any | undefined): void {
    const o = old ?? next;
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    const before = this.sliceOwner.get(key);
    const after = next ? sliceServiceKey(next) : undefined;
    if (before && before !== after) {
      this.slicesBySvc.get(before)?.delete(key);
      if (!this.slicesBySvc.get(before)?.size) this.slicesBySvc.delete(before);
      this.dirty.add(before);
    }
    if (after) {
      this.sliceOwner.set(key, after);
      let set = this.slicesBySvc.get(after);
      if (!set) this.slicesBySvc.set(after, (set = new Set()));
      set.add(key);
      this.dirty.add(after);
    } else this.sliceOwner.delete(key);
  }

  /** Keys of the slices of a Service. */
  slicesOf(svcKey: string): string[] {
    return [...(this.slicesBySvc.get(svcKey) ?? [])];
  }

  get pending(): boolean {
    return this.dirty.size > 0;
  }

  /** The Services changed since the last call. */
  take(): string[] {
    const d = [...this.dirty];
    this.dirty = new Set();
    return d;
  }
}
