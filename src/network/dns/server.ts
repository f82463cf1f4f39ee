/**
 * Cluster DNS (CoreDNS with the kubernetes plugin, as a Skiff component): answers the cluster
 * zone from informer caches on UDP and TCP, forwards every other name to the upstream resolvers
 * (by default those of the host's /etc/resolv.conf), and keeps the kube-dns Service pointing at it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { R } from '../../client/factory.js';
import { Informer } from '../../client/informer.js';
import type { RestClient } from '../../client/rest.js';
import type { Component } from '../../cluster/component.js';
import { ClusterZone, type DnsEndpoint, type ZoneData } from './zone.js';
import { DnsFormatError, RCODE, encodeResponse, parseQuery, type Response } from './wire.js';

export interface ClusterDNSOptions {
  /** Address to listen on (UDP and TCP). */
  host: string;
  /** Default 53; 0 picks a free port (same for UDP and TCP). */
  port?: number;
  domain?: string;
  ttl?: number;
  /** `ip:port` upstream resolvers (default: nameservers of /etc/resolv.conf). */
  upstreams?: string[];
  mapAddress?: (ip: string) => string;
  log?: (msg: string) => void;
}

export interface ClusterDNS extends Component {
  readonly port: number;
  readonly zone: ClusterZone;
  /** Answers one wire-format query (what the sockets do). */
  handle(msg: Buffer, tcp: boolean): Promise<Buffer | undefined>;
}

export function hostUpstreams(file = '/etc/resolv.conf'): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((x): x is string => !!x && !x.includes(':'))
      .map((ip) => `${ip}:53`);
  } catch {
    return [];
  }
}

/** Informer-backed ZoneData, with indexes kept current by the event handlers. */
class InformerData implements ZoneData {
  readonly services: Informer;
  readonly slices: Informer;
  readonly namespaces: Informer;
  private byIP = new Map<string, string>();
  private eps = new Map<string, DnsEndpoint[]>();
  private epIPs?: Map<string, { svcKey: string; ep: DnsEndpoint }>;

  constructor(client: RestClient) {
    this.services = new Informer(client, R.services);
    this.slices = new Informer(client, R.endpointslices);
    this.namespaces = new Informer(client, R.namespaces);
    const svcChanged = () => {
      this.byIP = new Map();
      for (const s of this.services.list()) if (s.spec?.clusterIP && s.spec.clusterIP !== 'None') this.byIP.set(s.spec.clusterIP, `${s.metadata.namespace}/${s.metadata.name}`);
      this.epIPs = undefined;
    };
    this.services.addHandlers({ add: svcChanged, update: svcChanged, delete: svcChanged });
    const sliceChanged = (s: any) => {
      const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
      if (svc) this.eps.delete(`${s.metadata.namespace}/${svc}`);
      this.epIPs = undefined;
    };
    this.slices.addHandlers({ add: sliceChanged, update: (_o, s) => sliceChanged(s), delete: sliceChanged });
  }

  service(ns: string, name: string): any {
    return this.services.get(`${ns}/${name}`);
  }

  namespaceExists(ns: string): boolean {
    return !!this.namespaces.get(ns);
  }

  endpoints(ns: string, name: string): DnsEndpoint[] {
    const key = `${ns}/${name}`;
    let l = this.eps.get(key);
    if (l) return l;
    const seen = new Set<string>();
    l = [];
    for (const s of this.slices.list()) {
      if (s.metadata.namespace !== ns || s.metadata.labels?.['kubernetes.io/service-name'] !== name || s.addressType !== 'IPv4') continue;
      for (const e of s.endpoints ?? []) {
        const ip = e.addresses?.[0];
        if (!ip || seen.has(ip) || e.conditions?.ready === false) continue;
        seen.add(ip);
        l.push(e.hostname ? { ip, hostname: e.hostname } : { ip });
      }
    }
    l.sort((a, b) => (a.ip < b.ip ? -1 : 1));
    this.eps.set(key, l);
    return l;
  }

  serviceByIP(ip: string): any {
    const k = this.byIP.get(ip);
    return k ? this.services.get(k) : undefined;
  }

  endpointByIP(ip: string): { svc: any; ep: DnsEndpoint } | undefined {
    if (!this.epIPs) {
      this.epIPs = new Map();
      for (const s of this.services.list()) {
        if (s.spec?.clusterIP !== 'None') continue;
        for (const ep of this.endpoints(s.metadata.namespace, s.metadata.name)) this.epIPs.set(ep.ip, { svcKey: `${s.metadata.namespace}/${s.metadata.name}`, ep });
      }
    }
    const hit = this.epIPs.get(ip);
    const svc = hit && this.services.get(hit.svcKey);
    return hit && svc ? { svc, ep: hit.ep } : undefined;
  }

  start(): Promise<unknown> {
    return Promise.all([this.services.start(), this.slices.start(), this.namespaces.start()]);
  }

  stop(): void {
    this.services.stop();
    this.slices.stop();
    this.namespaces.stop();
  }
}

export function createClusterDNS(client: RestClient, opts: ClusterDNSOptions): ClusterDNS {
  const log = opts.log ?? (() => undefined);
  const data = new InformerData(client);
  const zone = new ClusterZone(data, { domain: opts.domain ?? 'cluster.local', ttl: opts.ttl ?? 30, mapAddress: opts.mapAddress });
  const upstreams = opts.upstreams ?? hostUpstreams();
  let udp: dgram.Socket | undefined;
  let tcp: net.Server | undefined;
  let fwd: dgram.Socket | undefined;
  const pending = new Map<number, { resolve: (b: Buffer | undefined) => void; id: number; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let port = 0;

  const forward = (msg: Buffer): Promise<Buffer | undefined> => {
    const up = upstreams[0];
    if (!up || !fwd) return Promise.resolve(undefined);
    const [host, p] = up.split(':');
    const id = msg.readUInt16BE(0);
    let fid = nextId++ & 0xffff;
    while (pending.has(fid)) fid = nextId++ & 0xffff;
    const out = Buffer.from(msg);
    out.writeUInt16BE(fid, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(fid);
        resolve(undefined);
      }, 2000);
      pending.set(fid, { resolve, id, timer });
      fwd!.send(out, Number(p || 53), host);
    });
  };

  const handle = async (msg: Buffer, overTcp: boolean): Promise<Buffer | undefined> => {
    let q;
    try {
      q = parseQuery(msg);
    } catch (e) {
      if (!(e instanceof DnsFormatError) || msg.length < 12) return undefined;
      return encodeResponse({ id: msg.readUInt16BE(0), rd: false, aa: false, ra: true, rcode: RCODE.FORMERR, questions: [], answers: [], authority: [], additional: [] });
    }
    const base: Response = { id: q.id, rd: q.rd, aa: true, ra: true, rcode: RCODE.NOERROR, questions: q.questions, answers: [], authority: [], additional: [], udpSize: q.udpSize };
    if (q.opcode !== 0 || q.questions.length !== 1) return encodeResponse({ ...base, aa: false, rcode: RCODE.NOTIMP });
    const a = zone.resolve(q.questions[0]);
    if (!a) {
      const r = await forward(msg);
      if (r) {
        r.writeUInt16BE(q.id, 0);
        return r;
      }
      return encodeResponse({ ...base, aa: false, rcode: RCODE.SERVFAIL });
    }
    let out = encodeResponse({ ...base, ...a });
    const limit = overTcp ? 65535 : q.udpSize ?? 512;
    if (out.length > limit) out = encodeResponse({ ...base, rcode: a.rcode, tc: true });
    return out;
  };

  return {
    name: 'cluster-dns',
    zone,
    get port() {
      return port;
    },
    handle,
    async start() {
      await data.start();
      fwd = dgram.createSocket('udp4');
      fwd.on('message', (m) => {
        if (m.length < 2) return;
        const p = pending.get(m.readUInt16BE(0));
        if (!p) return;
        pending.delete(m.readUInt16BE(0));
        clearTimeout(p.timer);
        p.resolve(m);
      });
      fwd.on('error', (e) => log(`cluster-dns: forwarder: ${e.message}`));
      await new Promise<void>((r) => fwd!.bind(0, () => r()));
      tcp = net.createServer((sock) => {
        let buf = Buffer.alloc(0);
        sock.on('error', () => undefined);
        sock.on('data', (d) => {
          buf = Buffer.concat([buf, d]);
          while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
            buf = buf.subarray(2 + m.length);
            void handle(Buffer.from(m), true).then((r) => {
              if (!r || sock.destroyed) return;
              const len = Buffer.alloc(2);
              len.writeUInt16BE(r.length);
              sock.write(Buffer.concat([len, r]));
            });
          }
        });
      });
      await new Promise<void>((resolve, reject) => {
        tcp!.once('error', reject);
        tcp!.listen(opts.port ?? 53, opts.host, () => resolve());
      });
      port = (tcp.address() as net.AddressInfo).port;
      udp = dgram.createSocket('udp4');
      udp.on('message', (m, rinfo) => {
        void handle(m, false).then((r) => r && udp!.send(r, rinfo.port, rinfo.address));
      });
      udp.on('error', (e) => log(`cluster-dns: ${e.message}`));
      await new Promise<void>((resolve, reject) => {
        udp!.once('error', reject);
        udp!.bind(port, opts.host, () => resolve());
      });
      log(`cluster-dns: serving ${opts.domain ?? 'cluster.local'} on ${opts.host}:${port} (udp+tcp), forwarding to ${upstreams.join(', ') || 'nobody'}`);
    },
    async stop() {
      data.stop();
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.resolve(undefined);
      }
      pending.clear();
      await new Promise<void>((r) => (udp ? udp.close(() => r()) : r()));
      await new Promise<void>((r) => (tcp ? tcp.close(() => r()) : r()));
      await new Promise<void>((r) => (fwd ? fwd.close(() => r()) : r()));
    },
  };
}

/**
 * The kube-system/kube-dns Service (ClusterIP 10.96.0.10 by default, ports 53/UDP, 53/TCP) with an
 * EndpointSlice pointing at where the DNS server listens (an address the node owns, never a
 * loopback one: in loopback mode the pod-range gateway, whose 127 alias the server binds).
 */
export async function ensureKubeDnsService(client: RestClient, o: { clusterIP?: string; endpointIP: string; port: number }): Promise<void> {
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } },
    spec: {
      clusterIP: o.clusterIP ?? '10.96.0.10',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: o.port },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: o.port },
      ],
    },
  };
  try {
    await client.create('/api/v1/namespaces/kube-system/services', svc);
  } catch (e) {
    if ((e as any).status !== 409) throw e;
  }
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kube-dns-skiff', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'skiff-cluster-dns' } },
    addressType: 'IPv4',
    ports: [
      { name: 'dns', port: o.port, protocol: 'UDP' },
      { name: 'dns-tcp', port: o.port, protocol: 'TCP' },
    ],
    endpoints: [{ addresses: [o.endpointIP], conditions: { ready: true, serving: true, terminating: false } }],
  };
  const path = '/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices';
  try {
    await client.create(path, slice);
  } catch (e) {
    if ((e as any).status !== 409) throw e;
    const cur = await client.get(`${path}/kube-dns-skiff`);
    await client.update(`${path}/kube-dns-skiff`, { ...slice, metadata: { ...slice.metadata, resourceVersion: cur.metadata.resourceVersion } });
  }
}
