/**
 * The cluster zone's answers, as CoreDNS's kubernetes plugin gives them (pure: no sockets):
 *
 * - `svc.ns.svc.<zone>`: A/AAAA of the ClusterIPs by family (`spec.clusterIPs`); headless: of every
 *   ready endpoint of that family (none ready: NXDOMAIN); ExternalName: CNAME; SRV for every port.
 *   `_port._proto.svc.ns.svc.<zone>`: SRV for that named port (A/AAAA of the same addresses).
 * - `ep.svc.ns.svc.<zone>` for endpoints (hostname, else the IP with `.`/`:` turned into `-`).
 * - `a-b-c-d.ns.pod.<zone>` and `fd00--1.ns.pod.<zone>`: the address itself ("pods insecure",
 *   CoreDNS's default in kubeadm), when the namespace exists.
 * - PTR (in-addr.arpa and ip6.arpa) for ClusterIPs, else for every endpoint with that address;
 *   other reverse names fall through to forwarding.
 * - A name that does not exist is NXDOMAIN; one that exists without records of the asked type
 *   (an IPv4-only Service asked for AAAA) is NOERROR with no answers (NODATA); both carry the
 *   zone's SOA in the authority section. Wildcard names (deprecated in CoreDNS) are NXDOMAIN.
 * - `dns-version.<zone>` TXT is the schema version; `ns.dns.<zone>` is the kube-dns Service's
 *   address; ANY gets no records (NODATA or NXDOMAIN by the name's existence).
 * - Names match case-insensitively; answers keep the question's spelling (the owner name, and
 *   the zone part of targets), as CoreDNS does.
 */
import type dnsPacket from 'dns-packet';
import { RCODE, type Question, type Record_ } from './wire.js';
import { addressFromReverse, canonicalIP, isIPv4, isIPv6 } from './ip.js';

export interface DnsEndpointPort {
  name?: string;
  port: number;
  protocol?: string;
}

export interface DnsEndpoint {
  ip: string;
  hostname?: string;
  /** The EndpointSlice's ports (headless SRV answers use these). */
  ports?: DnsEndpointPort[];
}

export interface ZoneData {
  service(namespace: string, name: string): any | undefined;
  namespaceExists(namespace: string): boolean;
  /** Ready endpoints of a Service, both address families (publishNotReadyAddresses already folded into readiness). */
  endpoints(namespace: string, name: string): DnsEndpoint[];
  /** The Service with this ClusterIP (canonical text). */
  serviceByIP(ip: string): any | undefined;
  /** Every endpoint with this address (canonical text), with its Service's name and namespace. */
  endpointsByIP?(ip: string): { namespace: string; service: string; ep: DnsEndpoint }[];
  /** @deprecated older shape: one headless endpoint with this address. */
  endpointByIP?(ip: string): { svc: any; ep: DnsEndpoint } | undefined;
  /** Bumped on every change (answers cached by the server are valid for one generation). */
  generation?(): number;
  /** Unix seconds of the last change (the SOA serial, as CoreDNS's). */
  modified?(): number;
}

export interface Answer {
  rcode: number;
  answers: Record_[];
  authority: Record_[];
  additional: Record_[];
}

export interface ZoneOptions {
  domain: string;
  /** Seconds (CoreDNS's kubernetes plugin defaults to 5). */
  ttl: number;
  /** Rewrites addresses in A answers (loopback mode answers the 127.x aliases). */
  mapAddress?: (ip: string) => string;
}

export const DEFAULT_TTL = 5;
/** The Kubernetes DNS-based service discovery schema version (`dns-version.<zone>` TXT). */
export const DNS_SCHEMA_VERSION = '1.1.0';

/**
 * The ready endpoints of one Service's EndpointSlices (IPv4 and IPv6; FQDN slices carry nothing
 * DNS serves), each address once, canonical text, sorted: what `ZoneData.endpoints` returns.
 */
export function sliceEndpoints(slices: any[]): DnsEndpoint[] {
  const seen = new Set<string>();
  const l: DnsEndpoint[] = [];
  for (const s of slices) {
    if (s.addressType !== 'IPv4' && s.addressType !== 'IPv6') continue;
    const ports = (s.ports ?? []).filter((p: any) => typeof p.port === 'number').map((p: any) => ({ name: p.name || undefined, port: p.port, protocol: p.protocol ?? 'TCP' }));
    for (const e of s.endpoints ?? []) {
      // CoreDNS serves ready endpoints only; an unset condition counts as ready.
      if (e.conditions?.ready === false) continue;
      for (const a of e.addresses ?? []) {
        const ip = canonicalIP(a);
        if (!ip || seen.has(ip)) continue;
        seen.add(ip);
        l.push({ ip, ...(e.hostname ? { hostname: e.hostname } : {}), ports });
      }
    }
  }
  return l.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
}

const epName = (e: DnsEndpoint) => (e.hostname ?? e.ip.replace(/[.:]/g, '-')).toLowerCase();
type Family = 'A' | 'AAAA';
const familyOf = (ip: string): Family | undefined => (isIPv4(ip) ? 'A' : isIPv6(ip) ? 'AAAA' : undefined);

export class ClusterZone {
  private readonly domain: string;
  private readonly started = Math.floor(Date.now() / 1000);

  constructor(
    private readonly data: ZoneData,
    private readonly o: ZoneOptions,
  ) {
    this.domain = o.domain.toLowerCase().replace(/\.$/, '');
  }

  /** Changes whenever the data does (undefined: the data cannot tell, so answers are not cacheable). */
  get generation(): number | undefined {
    return this.data.generation?.();
  }

  soa(zone = this.domain): Record_ {
    const serial = (this.data.modified?.() ?? this.started) >>> 0;
    return { name: zone, type: 'SOA', ttl: this.o.ttl, class: 'IN', data: { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial, refresh: 7200, retry: 1800, expire: 86400, minimum: this.o.ttl } };
  }

  /** The SOA for a negative answer about this name, in the question's spelling of the zone. */
  soaFor(qname: string): Record_ {
    const n = qname.replace(/\.$/, '');
    return this.soa(n.toLowerCase().endsWith(this.domain) ? n.slice(n.length - this.domain.length) : this.domain);
  }

  private addr(name: string, ip: string): Record_ {
    if (isIPv4(ip)) return { name, type: 'A', ttl: this.o.ttl, class: 'IN', data: this.o.mapAddress ? this.o.mapAddress(ip) : ip };
    return { name, type: 'AAAA', ttl: this.o.ttl, class: 'IN', data: ip };
  }

  /** Address records of `ips` that answer `type` (A, AAAA, or both for ANY). */
  private addrs(name: string, ips: string[], type: string): Record_[] {
    const out: Record_[] = [];
    for (const ip of ips) {
      const f = familyOf(ip);
      if (f && (type === f || type === 'ANY')) out.push(this.addr(name, ip));
    }
    return out;
  }

  private nx(zone: string): Answer {
    return { rcode: RCODE.NXDOMAIN, answers: [], authority: [this.soa(zone)], additional: [] };
  }

  private nodata(zone: string): Answer {
    return { rcode: RCODE.NOERROR, answers: [], authority: [this.soa(zone)], additional: [] };
  }

  private ok(zone: string, answers: Record_[], additional: Record_[] = []): Answer {
    return answers.length ? { rcode: RCODE.NOERROR, answers, authority: [], additional } : this.nodata(zone);
  }

  /** The answer, or undefined when the name is not ours (forward it). */
  resolve(q: Question): Answer | undefined {
    const qname = q.name.endsWith('.') ? q.name.slice(0, -1) : q.name;
    const name = qname.toLowerCase();
    // ANY gets no records, only the name's existence (CoreDNS's kubernetes plugin does the same).
    const type = q.type.toUpperCase() === 'ANY' ? '' : q.type.toUpperCase();
    if (name.endsWith('.arpa')) return this.reverse(qname, type);
    if (name !== this.domain && !name.endsWith(`.${this.domain}`)) return undefined;
    // The zone as the question spells it: CoreDNS answers in the asker's case.
    const zone = qname.slice(qname.length - this.domain.length);
    const rel = name === this.domain ? [] : name.slice(0, -this.domain.length - 1).split('.');
    if (!rel.length) {
      if (type === 'SOA') return this.ok(zone, [this.soa(zone)]);
      if (type === 'NS') return this.ok(zone, [{ name: qname, type: 'NS', ttl: this.o.ttl, class: 'IN', data: `ns.dns.${zone}` }], this.addrs(`ns.dns.${zone}`, this.nameservers(), 'ANY'));
      return this.nodata(zone);
    }
    // The Kubernetes DNS schema's version record, and the nameserver the SOA and NS name.
    if (rel.length === 1 && rel[0] === 'dns-version') return type === 'TXT' ? this.ok(zone, [{ name: qname, type: 'TXT', ttl: 28800, class: 'IN', data: [DNS_SCHEMA_VERSION] }]) : this.nx(zone);
    if (rel.length === 2 && rel[0] === 'ns' && rel[1] === 'dns') return this.ok(zone, this.addrs(qname, this.nameservers(), type));
    const kind = rel[rel.length - 1];
    const parts = rel.slice(0, -1);
    if (kind === 'pod') return this.pod(qname, zone, parts, type);
    if (kind !== 'svc') return this.nx(zone);
    if (parts.length === 0) return this.nodata(zone);
    const ns = parts[parts.length - 1];
    if (!this.data.namespaceExists(ns)) return this.nx(zone);
    if (parts.length === 1) return this.nodata(zone);
    const svcName = parts[parts.length - 2];
    const svc = this.data.service(ns, svcName);
    if (!svc) return this.nx(zone);
    const base = `${svcName}.${ns}.svc.${zone}`;
    const external = svc.spec?.type === 'ExternalName';
    if (parts.length === 2) return external ? this.externalName(qname, zone, svc) : this.serviceRecords(qname, zone, svc, base, type);
    if (external) return this.nx(zone); // ExternalName Services have no endpoints or ports
    if (parts.length === 3 && !parts[0].startsWith('_')) {
      const eps = this.data.endpoints(ns, svcName).filter((e) => epName(e) === parts[0]);
      if (!eps.length) return this.nx(zone);
      return this.ok(zone, this.addrs(qname, eps.map((e) => e.ip), type));
    }
    if (parts.length === 4 && parts[0].startsWith('_') && parts[1].startsWith('_')) return this.portRecords(qname, zone, svc, base, parts[0].slice(1), parts[1].slice(1), type);
    return this.nx(zone);
  }

  private externalName(qname: string, zone: string, svc: any): Answer {
    const target = String(svc.spec.externalName ?? '').replace(/\.$/, '');
    return target ? this.ok(zone, [{ name: qname, type: 'CNAME', ttl: this.o.ttl, class: 'IN', data: target }]) : this.nx(zone);
  }

  private headless(svc: any): boolean {
    return svc.spec?.clusterIP === 'None';
  }

  private clusterIPs(svc: any): string[] {
    const ips: string[] = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec?.clusterIP ? [svc.spec.clusterIP] : [];
    return ips.filter((ip) => ip !== 'None');
  }

  private serviceRecords(qname: string, zone: string, svc: any, base: string, type: string): Answer {
    if (!this.headless(svc)) return type === 'SRV' ? this.srv(qname, zone, svc, base, () => true) : this.ok(zone, this.addrs(qname, this.clusterIPs(svc), type));
    // A headless Service without ready endpoints has no records at all: NXDOMAIN, as CoreDNS.
    const eps = this.data.endpoints(svc.metadata.namespace, svc.metadata.name);
    if (!eps.length) return this.nx(zone);
    return type === 'SRV' ? this.srv(qname, zone, svc, base, () => true) : this.ok(zone, this.addrs(qname, eps.map((e) => e.ip), type));
  }

  /** The addresses of the kube-dns Service (what `ns.dns.<zone>` answers). */
  private nameservers(): string[] {
    const svc = this.data.service('kube-system', 'kube-dns');
    return svc ? this.clusterIPs(svc) : [];
  }

  private portRecords(qname: string, zone: string, svc: any, base: string, port: string, proto: string, type: string): Answer {
    const match = (p: { name?: string; protocol?: string }) => !!p.name && p.name.toLowerCase() === port && (p.protocol ?? 'TCP').toLowerCase() === proto;
    if (!this.headless(svc)) {
      if (!(svc.spec?.ports ?? []).some(match)) return this.nx(zone);
      return type === 'SRV' ? this.srv(qname, zone, svc, base, match) : this.ok(zone, this.addrs(qname, this.clusterIPs(svc), type));
    }
    const eps = this.data.endpoints(svc.metadata.namespace, svc.metadata.name).filter((e) => (e.ports ?? []).some(match));
    if (!eps.length) return this.nx(zone);
    return type === 'SRV' ? this.srv(qname, zone, svc, base, match) : this.ok(zone, this.addrs(qname, eps.map((e) => e.ip), type));
  }

  /** SRV records (weights split evenly, as CoreDNS), with the targets' addresses as additional records. */
  private srv(qname: string, zone: string, svc: any, base: string, match: (p: DnsEndpointPort) => boolean): Answer {
    const recs: { port: number; target: string }[] = [];
    const additional: Record_[] = [];
    if (!this.headless(svc)) {
      for (const p of svc.spec?.ports ?? []) if (match(p)) recs.push({ port: p.port, target: base });
      if (recs.length) additional.push(...this.addrs(base, this.clusterIPs(svc), 'ANY'));
    } else {
      const seen = new Set<string>();
      for (const e of this.data.endpoints(svc.metadata.namespace, svc.metadata.name)) {
        const target = `${epName(e)}.${base}`;
        let any = false;
        for (const p of e.ports ?? []) {
          if (!match(p) || seen.has(`${p.port}/${target}`)) continue;
          seen.add(`${p.port}/${target}`);
          recs.push({ port: p.port, target });
          any = true;
        }
        if (any) additional.push(this.addr(target, e.ip));
      }
    }
    const weight = Math.floor(100 / Math.max(1, recs.length));
    const answers: Record_[] = recs.map((r) => ({ name: qname, type: 'SRV', ttl: this.o.ttl, class: 'IN', data: { priority: 0, weight, port: r.port, target: r.target } as dnsPacket.SrvAnswer['data'] }));
    return this.ok(zone, answers, additional);
  }

  private pod(qname: string, zone: string, parts: string[], type: string): Answer {
    if (parts.length === 0) return this.nodata(zone);
    if (!this.data.namespaceExists(parts[parts.length - 1])) return this.nx(zone);
    if (parts.length === 1) return this.nodata(zone);
    if (parts.length !== 2) return this.nx(zone);
    // CoreDNS: three dashes and no '--' is IPv4 (a-b-c-d), anything else is IPv6 with ':' as '-'.
    const label = parts[0];
    const dashes = label.split('-').length - 1;
    const ip = dashes === 3 && !label.includes('--') ? label.replace(/-/g, '.') : label.replace(/-/g, ':');
    const canon = canonicalIP(ip);
    if (!canon || (isIPv4(ip) && ip.split('.').some((o) => o.length > 1 && o.startsWith('0')))) return this.nx(zone);
    return this.ok(zone, this.addrs(qname, [canon], type));
  }

  private reverse(qname: string, type: string): Answer | undefined {
    const ip = addressFromReverse(qname);
    if (!ip) return undefined;
    const targets: string[] = [];
    const svc = this.data.serviceByIP(ip);
    if (svc) targets.push(`${svc.metadata.name}.${svc.metadata.namespace}.svc.${this.domain}`);
    else if (this.data.endpointsByIP) {
      for (const h of this.data.endpointsByIP(ip)) targets.push(`${epName(h.ep)}.${h.service}.${h.namespace}.svc.${this.domain}`);
    } else {
      const h = this.data.endpointByIP?.(ip);
      if (h) targets.push(`${epName(h.ep)}.${h.svc.metadata.name}.${h.svc.metadata.namespace}.svc.${this.domain}`);
    }
    if (!targets.length) return undefined; // not ours: fall through to the upstream resolver
    const zone = qname.toLowerCase().endsWith('.ip6.arpa') ? 'ip6.arpa' : 'in-addr.arpa';
    if (type !== 'PTR') return this.nodata(zone);
    return this.ok(zone, [...new Set(targets)].map((t) => ({ name: qname, type: 'PTR', ttl: this.o.ttl, class: 'IN', data: t })));
  }
}
