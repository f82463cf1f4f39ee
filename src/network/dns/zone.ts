/**
 * The cluster zone's answers, as CoreDNS's kubernetes plugin gives them (pure: no sockets):
 *
 * - `svc.ns.svc.<zone>`: A of the ClusterIP; headless: A of every ready endpoint; ExternalName:
 *   CNAME; SRV for every named port. `_port._proto.svc.ns.svc.<zone>`: SRV for that port.
 * - `ep.svc.ns.svc.<zone>` for headless endpoints (hostname, else the dashed IP).
 * - `a-b-c-d.ns.pod.<zone>`: A a.b.c.d ("pods insecure", CoreDNS's default in kubeadm).
 * - PTR for ClusterIPs and headless endpoints; other reverse names fall through to forwarding.
 * - A name that does not exist is NXDOMAIN; one that exists without records of the asked type
 *   is NOERROR with no answers (NODATA); both carry the zone's SOA in the authority section.
 */
import { RCODE, TYPE, type Question, type Record_ } from './wire.js';

export interface DnsEndpoint {
  ip: string;
  hostname?: string;
}

export interface ZoneData {
  service(namespace: string, name: string): any | undefined;
  namespaceExists(namespace: string): boolean;
  /** Ready endpoints of a Service (publishNotReadyAddresses is already folded into readiness). */
  endpoints(namespace: string, name: string): DnsEndpoint[];
  /** The Service whose ClusterIP this is. */
  serviceByIP(ip: string): any | undefined;
  /** A headless Service endpoint with this IP. */
  endpointByIP(ip: string): { svc: any; ep: DnsEndpoint } | undefined;
}

export interface Answer {
  rcode: number;
  answers: Record_[];
  authority: Record_[];
  additional: Record_[];
}

export interface ZoneOptions {
  domain: string;
  ttl: number;
  /** Rewrites addresses in A answers (loopback mode answers the 127.x aliases). */
  mapAddress?: (ip: string) => string;
}

const epName = (e: DnsEndpoint) => e.hostname ?? e.ip.replace(/\./g, '-');

export class ClusterZone {
  private readonly domain: string;

  constructor(
    private readonly data: ZoneData,
    private readonly o: ZoneOptions,
  ) {
    this.domain = o.domain.toLowerCase().replace(/\.$/, '');
  }

  soa(): Record_ {
    return { name: this.domain, ttl: this.o.ttl, data: { type: TYPE.SOA, mname: `ns.dns.${this.domain}`, rname: `hostmaster.${this.domain}`, serial: Math.floor(Date.now() / 1000) >>> 0, refresh: 7200, retry: 1800, expire: 86400, minimum: this.o.ttl } };
  }

  private a(name: string, ip: string): Record_ {
    return { name, ttl: this.o.ttl, data: { type: TYPE.A, address: this.o.mapAddress ? this.o.mapAddress(ip) : ip } };
  }

  private nx(): Answer {
    return { rcode: RCODE.NXDOMAIN, answers: [], authority: [this.soa()], additional: [] };
  }

  private nodata(): Answer {
    return { rcode: RCODE.NOERROR, answers: [], authority: [this.soa()], additional: [] };
  }

  private ok(answers: Record_[], additional: Record_[] = []): Answer {
    return answers.length ? { rcode: RCODE.NOERROR, answers, authority: [], additional } : this.nodata();
  }

  /** The answer, or undefined when the name is not ours (forward it). */
  resolve(q: Question): Answer | undefined {
    const name = q.name.toLowerCase().replace(/\.$/, '');
    if (name.endsWith('.in-addr.arpa')) return this.reverse(name, q.type);
    if (name !== this.domain && !name.endsWith(`.${this.domain}`)) return undefined;
    const rel = name === this.domain ? [] : name.slice(0, -this.domain.length - 1).split('.');
    if (!rel.length) {
      if (q.type === TYPE.SOA || q.type === TYPE.ANY) return this.ok([this.soa()]);
      if (q.type === TYPE.NS) return this.ok([{ name: this.domain, ttl: this.o.ttl, data: { type: TYPE.NS, target: `ns.dns.${this.domain}` } }]);
      return this.nodata();
    }
    const kind = rel[rel.length - 1];
    const parts = rel.slice(0, -1);
    if (kind === 'pod') return this.pod(name, parts, q.type);
    if (kind !== 'svc') return this.nx();
    if (parts.length === 0) return this.nodata();
    const ns = parts[parts.length - 1];
    if (parts.length === 1) return this.data.namespaceExists(ns) ? this.nodata() : this.nx();
    const svcName = parts[parts.length - 2];
    const svc = this.data.service(ns, svcName);
    if (!svc) return this.nx();
    const base = `${svcName}.${ns}.svc.${this.domain}`;
    const headless = svc.spec?.clusterIP === 'None';
    if (parts.length === 2) return this.serviceRecords(svc, base, headless, q.type);
    if (parts.length === 3 && !parts[0].startsWith('_')) {
      if (!headless) return this.nx();
      const ep = this.data.endpoints(ns, svcName).find((e) => epName(e) === parts[0]);
      if (!ep) return this.nx();
      return q.type === TYPE.A || q.type === TYPE.ANY ? this.ok([this.a(name, ep.ip)]) : this.nodata();
    }
    if (parts.length === 4 && parts[0].startsWith('_') && parts[1].startsWith('_')) {
      const port = parts[0].slice(1);
      const proto = parts[1].slice(1).toUpperCase();
      const ports = (svc.spec?.ports ?? []).filter((p: any) => p.name && p.name.toLowerCase() === port && (p.protocol ?? 'TCP') === proto);
      if (!ports.length) return this.nx();
      return q.type === TYPE.SRV || q.type === TYPE.ANY ? this.srv(name, svc, base, headless, ports) : this.nodata();
    }
    return this.nx();
  }

  private serviceRecords(svc: any, base: string, headless: boolean, type: number): Answer {
    const ns = svc.metadata.namespace;
    if (svc.spec?.type === 'ExternalName') {
      const target = String(svc.spec.externalName ?? '').replace(/\.$/, '');
      return this.ok([{ name: base, ttl: this.o.ttl, data: { type: TYPE.CNAME, target } }]);
    }
    if (type === TYPE.SRV) {
      const named = (svc.spec?.ports ?? []).filter((p: any) => p.name);
      return named.length ? this.srv(base, svc, base, headless, named) : this.nodata();
    }
    if (type !== TYPE.A && type !== TYPE.ANY) return this.nodata();
    if (!headless) return svc.spec?.clusterIP ? this.ok([this.a(base, svc.spec.clusterIP)]) : this.nodata();
    return this.ok(this.data.endpoints(ns, svc.metadata.name).map((e) => this.a(base, e.ip)));
  }

  private srv(name: string, svc: any, base: string, headless: boolean, ports: any[]): Answer {
    const answers: Record_[] = [];
    const additional: Record_[] = [];
    if (!headless) {
      const w = Math.floor(100 / ports.length);
      for (const p of ports) answers.push({ name, ttl: this.o.ttl, data: { type: TYPE.SRV, priority: 0, weight: w, port: p.port, target: base } });
      if (svc.spec?.clusterIP) additional.push(this.a(base, svc.spec.clusterIP));
    } else {
      const eps = this.data.endpoints(svc.metadata.namespace, svc.metadata.name);
      const w = Math.floor(100 / Math.max(1, eps.length * ports.length));
      for (const e of eps) {
        const target = `${epName(e)}.${base}`;
        // Headless SRV targets the endpoint: its port is the Service port's target on the pod.
        for (const p of ports) answers.push({ name, ttl: this.o.ttl, data: { type: TYPE.SRV, priority: 0, weight: w, port: typeof p.targetPort === 'number' ? p.targetPort : p.port, target } });
        additional.push(this.a(target, e.ip));
      }
    }
    return this.ok(answers, additional);
  }

  private pod(name: string, parts: string[], type: number): Answer {
    if (parts.length === 0) return this.nodata();
    if (parts.length === 1) return this.data.namespaceExists(parts[0]) ? this.nodata() : this.nx();
    if (parts.length !== 2) return this.nx();
    const m = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})$/.exec(parts[0]);
    if (!m || m.slice(1).some((x) => Number(x) > 255)) return this.nx();
    return type === TYPE.A || type === TYPE.ANY ? this.ok([this.a(name, m.slice(1).join('.'))]) : this.nodata();
  }

  private reverse(name: string, type: number): Answer | undefined {
    const octets = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (octets.length !== 4) return undefined;
    const ip = octets.reverse().join('.');
    let target: string | undefined;
    const svc = this.data.serviceByIP(ip);
    if (svc) target = `${svc.metadata.name}.${svc.metadata.namespace}.svc.${this.domain}`;
    else {
      const hit = this.data.endpointByIP(ip);
      if (hit) target = `${epName(hit.ep)}.${hit.svc.metadata.name}.${hit.svc.metadata.namespace}.svc.${this.domain}`;
    }
    if (!target) return undefined; // not ours: fall through to the upstream resolver
    return type === TYPE.PTR || type === TYPE.ANY ? this.ok([{ name, ttl: this.o.ttl, data: { type: TYPE.PTR, target } }]) : this.nodata();
  }
}
