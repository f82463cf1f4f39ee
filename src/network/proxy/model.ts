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

export function buildServicePorts(services: any[], slices: any[]): ServicePort[] {
  const bySvc = new Map<string, any[]>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
    if (!svc || s.addressType !== 'IPv4') continue;
    const k = `${s.metadata.namespace}/${svc}`;
    let l = bySvc.get(k);
    if (!l) bySvc.set(k, (l = []));
    l.push(s);
  }
  const out: ServicePort[] = [];
  for (const svc of services) {
    if (!proxied(svc)) continue;
    const ns = svc.metadata.namespace;
    const name = svc.metadata.name;
    const sl = bySvc.get(`${ns}/${name}`) ?? [];
    const affinity = svc.spec?.sessionAffinity === 'ClientIP' ? svc.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 : undefined;
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
        endpoints: usableEndpoints(eps),
      });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}
